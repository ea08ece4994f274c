import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openOwnedFile } from '../../../src/lib/owned-output.js';
import { bundleFiles, writeBundle } from '../../../src/node/bundle.js';
import { nodeResult, type NodeRun } from '../../../src/node/engine.js';
import { parseSections } from '../../../src/node/sections.js';
import { readTarGz } from '../../tar.js';
import { labFacts, sections } from './fixtures.js';

const w2 = labFacts(2);
const discovered = sections('discover-worker2.txt');
// A CNI config with a secret, as some CNIs keep them, next to the lab's.
const inspected = new Map(w2.inspected);
inspected.set('cni-file 20-secret.conflist', {
  name: 'cni-file 20-secret.conflist',
  output: '{"name":"x","plugins":[{"type":"x","token":"s3cret-token"}]}',
  status: 0,
});
const run: NodeRun = {
  result: nodeResult([{ facts: w2.facts, sections: inspected }], [], []),
  raw: [{ node: 'worker2.kube.local', discovered, inspected }],
};
const scratch = mkdtempSync(path.join(tmpdir(), 'netdiag-bundle-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('the support bundle', () => {
  const files = new Map(bundleFiles(run).map((file) => [file.name, file.content]));
  const folder = 'netdiag-node/worker2.kube.local';
  it('holds every command’s raw output under the node, by what it is', () => {
    for (const name of [
      'ip-addr.json',
      'ip-route.json',
      'ip-rule.json',
      'ip-neigh.json',
      'sysctl.txt',
      'sysctl-all.txt',
      'counters.txt',
      'conntrack-stats.txt',
      'ss-s.txt',
      'kube-proxy/healthz.json',
      'runtime/containerd-tasks.jsonl',
      'cni/net.d/10-netdiag-lab.conflist',
      'cni/bin/usr_lib_cni.txt',
      'netns.txt',
    ])
      assert.ok(files.has(`${folder}/${name}`), name);
    assert.equal(
      files.get(`${folder}/ip-addr.json`),
      parseSections(
        readFileSync(new URL('../../../../test/fixtures/node/inspect-worker2-full.txt', import.meta.url), 'utf8'),
      ).get('ip-addr')?.output,
    );
    assert.ok(
      [...files.keys()].some((name) =>
        /^netdiag-node\/worker2\.kube\.local\/processes\/containerd-\d+\.config\/var_lib_netdiag-lab_nodes_worker2_containerd\.toml$/.test(
          name,
        ),
      ),
    );
    assert.ok([...files.keys()].some((name) => /processes\/kube-proxy-\d+\.argv\.txt$/.test(name)));
    assert.ok(files.has(`${folder}/kube-proxy/nft-maps.txt.stderr`), 'what a command said on stderr is kept');
    assert.equal(files.get(`${folder}/kube-proxy/nft-maps.txt.exit-status`), '1\n');
    assert.deepEqual(JSON.parse(files.get('netdiag-node/result.json') ?? '{}'), JSON.parse(JSON.stringify(run.result)));
  });
  it('never holds a credential', () => {
    assert.doesNotMatch([...files.values()].join('\n'), /s3cret-token/);
    assert.match(files.get(`${folder}/cni/net.d/20-secret.conflist`) ?? '', /"token": "REDACTED"/);
  });
  it('is written as a .tar.gz that reads back; an existing file is replaced only then', async () => {
    const file = path.join(scratch, 'bundle.tar.gz');
    writeFileSync(file, 'previous content');
    const output = await openOwnedFile(file);
    assert.equal(readFileSync(file, 'utf8'), 'previous content', 'untouched until the bundle is ready');
    await writeBundle(output, bundleFiles(run), new Date('2026-12-02T12:00:00Z'));
    const back = await readTarGz(file);
    assert.deepEqual([...back.keys()].sort(), [...files.keys()].sort());
    assert.equal(back.get(`${folder}/counters.txt`), files.get(`${folder}/counters.txt`));
  });
});
