import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { reportFiles } from '../../../src/doctor/bundle.js';
import { bundleFiles, writeBundle } from '../../../src/node/bundle.js';
import { openOwnedFile } from '../../../src/lib/owned-output.js';
import { readTarGz } from '../../tar.js';
import { doctorResult } from './result.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'doctor-bundle-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const result = doctorResult(
  { steps: [{ name: 'preflight', status: 'ok', durationMs: 5 }] },
  { findings: [{ id: 'check.l3.pod-pod', subject: 'a→b', status: 'pass', summary: 'ok', evidence: [] }] },
);

describe('doctor bundle', () => {
  it('the report in every format under netdiag-doctor/, beside what node --bundle writes', async () => {
    const file = path.join(scratch, 'report.tar.gz');
    const nodeResult = { command: 'node', data: null, findings: [], unavailable: [] };
    const raw = {
      node: 'worker1.kube.local',
      discovered: new Map([['uname', { name: 'uname', output: 'Linux worker1', status: 0 }]]),
      inspected: new Map(),
    };
    const files = [
      ...reportFiles(result),
      ...bundleFiles({ result: nodeResult, raw: [raw] } as unknown as Parameters<typeof bundleFiles>[0]),
    ];
    await writeBundle(await openOwnedFile(file), files, new Date());
    const entries = await readTarGz(file);
    assert.deepEqual([...entries.keys()].sort(), [
      'netdiag-doctor/report.html',
      'netdiag-doctor/report.json',
      'netdiag-doctor/report.junit.xml',
      'netdiag-doctor/report.md',
      'netdiag-doctor/report.txt',
      'netdiag-doctor/report.wide.txt',
      'netdiag-doctor/report.yaml',
      'netdiag-node/result.json',
      'netdiag-node/worker1.kube.local/uname.txt',
    ]);
    assert.deepEqual(JSON.parse(entries.get('netdiag-doctor/report.json') ?? ''), result);
    assert.match(entries.get('netdiag-doctor/report.html') ?? '', /<h2>Diagnoses<\/h2>/);
    assert.match(entries.get('netdiag-doctor/report.junit.xml') ?? '', /<testsuites/);
  });
});
