/**
 * A node capture does not capture itself (src/sniff/self.ts): `sniff node/NAME` leaves out its own stream (runtime
 * streaming server ↔ kubelet on loopback, kubelet ↔ API server), so the kernel drops nothing; `--include-self` brings
 * both legs back. The filter takes all TCP of loopback and of the API server, where both legs are. tcpdump's "dropped
 * by kernel" is not asserted: it also counts what arrives between opening the socket and attaching the filter, which
 * other tests' iperf3 traffic on the shared lab decides (measured on an idle lab: docs/sniff.md).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { env, haveCluster, kubectlOk, managedPods, netdiag, tearDown, tshark } from './sniff.support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-sniff-self-'));
const NODE = 'worker2.kube.local';

interface Conversation {
  readonly a: string;
  readonly b: string;
  readonly bytes: number;
}

/** TCP conversations of a capture: endpoints as ADDRESS:PORT (lower first) and the bytes between them. */
function conversations(file: string): Conversation[] {
  const fields = ['ip.src', 'tcp.srcport', 'ip.dst', 'tcp.dstport', 'frame.len'].flatMap((f) => ['-e', f]);
  const run = tshark(['-r', file, '-Y', 'tcp && ip', '-T', 'fields', ...fields]);
  assert.equal(run.status, 0, run.stderr);
  const bytes = new Map<string, number>();
  for (const line of run.stdout.split('\n').filter(Boolean)) {
    const [src, sport, dst, dport, len] = line.split('\t');
    const key = [`${src}:${sport}`, `${dst}:${dport}`].sort().join(' ');
    bytes.set(key, (bytes.get(key) ?? 0) + Number(len));
  }
  return [...bytes].map(([key, total]) => {
    const [a, b] = key.split(' ') as [string, string];
    return { a, b, bytes: total };
  });
}

/** The leg's conversations: kubelet port ↔ an API server address, or loopback ↔ loopback on a runtime port. */
const apiLeg = (c: Conversation, kubeletPort: string, apiServers: readonly string[]) =>
  [c.a, c.b].some((end) => end.endsWith(`:${kubeletPort}`)) &&
  [c.a, c.b].some((end) => apiServers.some((ip) => end.startsWith(`${ip}:`)));
const loopbackLeg = (c: Conversation, ports: readonly string[]) =>
  c.a.startsWith('127.0.0.1:') &&
  c.b.startsWith('127.0.0.1:') &&
  ports.some((p) => [c.a, c.b].includes(`127.0.0.1:${p}`));

describe('sniff node/NAME leaves out its own stream', { timeout: 300_000 }, () => {
  let kubeletPort = '';
  let apiServers: string[] = [];

  before(() => {
    assert.ok(haveCluster(), `no cluster reachable with KUBECONFIG=${env.KUBECONFIG}`);
    kubeletPort = kubectlOk(['get', 'node', NODE, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}']);
    apiServers = kubectlOk([
      'get',
      'endpointslices',
      '-n',
      'default',
      '-l',
      'kubernetes.io/service-name=kubernetes',
      '-o',
      'jsonpath={.items[*].endpoints[*].addresses[*]}',
    ])
      .split(' ')
      .filter(Boolean);
    assert.match(kubeletPort, /^\d+$/);
    assert.ok(apiServers.length > 0);
  });

  after(() => tearDown(dir, []));

  const capture = async (file: string, ...extra: string[]) => {
    const filter = `tcp and (host 127.0.0.1 or ${apiServers.map((ip) => `host ${ip}`).join(' or ')})`;
    const run = await netdiag(['sniff', `node/${NODE}`, '-f', filter, '-o', file, '--duration', '5s', '-v', ...extra])
      .done;
    assert.equal(run.status, 0, run.stderr);
    return run;
  };

  it('by default: says so, and none of its packets are its own stream', async () => {
    const file = path.join(dir, 'without-self.pcap');
    const run = await capture(file);
    assert.match(
      run.stderr,
      /leaving out the capture's own stream \(kubelet :\d+ ↔ API server .*--include-self keeps it/,
    );
    const ports = /left out the runtime streaming server on 127\.0\.0\.1 port\(s\) ([\d ]+)/.exec(run.stderr)?.[1];
    assert.ok(ports, `the helper found the runtime's streaming port: ${run.stderr}`);
    const convs = conversations(file);
    assert.deepEqual(
      convs.filter((c) => apiLeg(c, kubeletPort, apiServers) || loopbackLeg(c, ports.split(' '))),
      [],
      'no conversation of either leg',
    );
    assert.deepEqual(managedPods(), []);
  });

  it('--include-self: both legs are back', async () => {
    const file = path.join(dir, 'with-self.pcap');
    const run = await capture(file, '--include-self');
    assert.doesNotMatch(run.stderr, /leaving out/);
    const convs = conversations(file);
    assert.ok(
      convs.some((c) => apiLeg(c, kubeletPort, apiServers) && c.bytes > 20_000),
      `kubelet ↔ API server carries the capture: ${JSON.stringify(convs.slice(0, 5))}`,
    );
    assert.ok(
      convs.some((c) => c.a.startsWith('127.0.0.1:') && c.b.startsWith('127.0.0.1:') && c.bytes > 20_000),
      `the loopback leg carries the capture: ${JSON.stringify(convs.slice(0, 5))}`,
    );
    assert.deepEqual(managedPods(), []);
  });
});
