import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { nodeFiles, reportFiles, writeBundle } from '../../../src/doctor/bundle.js';
import { type DoctorResult } from '../../../src/doctor/report.js';
import { openOwnedFile } from '../../../src/lib/owned-output.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'doctor-bundle-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const result: DoctorResult = {
  command: 'doctor',
  data: {
    diagnoses: [],
    unexplained: [],
    baseline: null,
    steps: [{ name: 'preflight', status: 'ok', durationMs: 5 }],
    captures: [],
    node: null,
    dns: null,
    check: null,
    bw: null,
  },
  findings: [{ id: 'check.l3.pod-pod', subject: 'a→b', status: 'pass', summary: 'ok', evidence: [] }],
  unavailable: [],
};

/** The entries of a .tar.gz: name → content. */
async function untar(file: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        entries.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
  });
  reader.end(gunzipSync(readFileSync(file)));
  await done;
  return entries;
}

describe('doctor bundle', () => {
  it('the report in every format, each node’s sections, under one top directory', async () => {
    const file = path.join(scratch, 'report.tar.gz');
    const section = (name: string, output: string, stderr?: string) =>
      [name, { name, output, status: 0, ...(stderr ? { stderr } : {}) }] as const;
    const files = [
      ...reportFiles(result),
      ...nodeFiles([
        {
          node: 'worker1.kube.local',
          discovered: new Map([section('processes', 'kubelet 1234')]),
          inspected: new Map([section('iptables-save', '*filter\nCOMMIT', 'warning: legacy tables')]),
        },
      ]),
    ];
    await writeBundle(await openOwnedFile(file), 'netdiag-doctor', files);
    const entries = await untar(file);
    assert.deepEqual([...entries.keys()].sort(), [
      'netdiag-doctor/nodes/worker1.kube.local/discovered/processes.txt',
      'netdiag-doctor/nodes/worker1.kube.local/inspected/iptables-save.stderr.txt',
      'netdiag-doctor/nodes/worker1.kube.local/inspected/iptables-save.txt',
      'netdiag-doctor/report.html',
      'netdiag-doctor/report.json',
      'netdiag-doctor/report.junit.xml',
      'netdiag-doctor/report.md',
      'netdiag-doctor/report.txt',
      'netdiag-doctor/report.wide.txt',
      'netdiag-doctor/report.yaml',
    ]);
    assert.deepEqual(JSON.parse(entries.get('netdiag-doctor/report.json') ?? ''), result);
    assert.match(entries.get('netdiag-doctor/report.html') ?? '', /<h2>Diagnoses<\/h2>/);
    assert.equal(
      entries.get('netdiag-doctor/nodes/worker1.kube.local/inspected/iptables-save.stderr.txt'),
      'exit 0\nwarning: legacy tables',
    );
  });
});
