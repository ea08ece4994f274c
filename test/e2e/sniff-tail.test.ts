/**
 * The end of a capture reaches a slow reader: a capture that ends by itself (--count) while the reader holds MiBs
 * back delivers every packet tcpdump wrote, and exits 0. kubernetes#124571 can drop the tail of an exec stream whose
 * process exits while output is still queued; the capture wrapper therefore stays until the client acknowledges
 * (protocol unit-tested in test/unit/sniff/tcpdump.test.ts). This lab did not reproduce that loss for captures even
 * without the acknowledgement (checked by hand), so this test guards completeness, not that particular bug.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  capinfos,
  cli,
  commandPod,
  createNamespace,
  env,
  haveCluster,
  kubectlOk,
  waitPodsReady,
  tearDown,
} from './sniff.support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-sniff-tail-'));
let ns = '';
const PACKETS = 400;

describe('sniff delivers the tail of a capture to a slow reader', { timeout: 600_000 }, () => {
  before(() => {
    assert.ok(haveCluster(), `no cluster reachable with KUBECONFIG=${env.KUBECONFIG}`);
    ns = createNamespace('netdiag-e2e');
    kubectlOk(['apply', '-f', '-'], commandPod(ns, 'server', 'iperf3 -s'));
    waitPodsReady(ns, 'app=server', 1);
    const ip = kubectlOk(['get', 'pod', '-n', ns, 'server', '-o', 'jsonpath={.status.podIP}']).trim();
    kubectlOk(
      ['apply', '-f', '-'],
      commandPod(ns, 'load', `while true; do iperf3 -c ${ip} -t 600 >/dev/null 2>&1; sleep 1; done`),
    );
    waitPodsReady(ns, 'app=load', 1);
  });

  after(() => tearDown(dir, [ns]));

  it(`--count ${PACKETS} of iperf3 traffic read at ~1.3 MB/s: all ${PACKETS} packets arrive, exit 0`, async () => {
    const file = path.join(dir, 'tail.pcap');
    const child = spawn(cli, ['sniff', 'server', '-n', ns, '--count', String(PACKETS), '-o', '-', '-q'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'close') as Promise<[number | null]>;
    const out = createWriteStream(file);
    let bytes = 0;
    // 64 KiB per 50 ms at most: the remote tcpdump reaches its count long before this reader has the data.
    for await (const chunk of child.stdout) {
      bytes += (chunk as Buffer).length;
      if (!out.write(chunk)) await once(out, 'drain');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => out.end(r));
    const [status] = await exited;
    assert.equal(status, 0, stderr);
    assert.ok(bytes > 8 * 1024 * 1024, `the capture is big enough to be held back (${bytes} bytes)`);
    const info = capinfos(file);
    assert.equal(info.status, 0, info.stderr);
    assert.equal(Number(/Number of packets:\s+(\d+)/.exec(info.stdout)?.[1]), PACKETS, info.stdout);
  });
});
