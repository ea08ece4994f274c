/**
 * Stopping a capture: SIGINT and SIGTERM stop the remote tcpdump, flush, close a valid file, delete helper pods and
 * exit 0; SIGKILL of the client leaves tcpdump running for at most the heartbeat bound, and `kubectl netdiag
 * cleanup` removes the helper pods.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import {
  capinfos,
  createNamespace,
  dnsLoopPod,
  env,
  haveCluster,
  hostProcesses,
  kubectlOk,
  managedPods,
  netdiag,
  tcpdumpsInPod,
  uploadLeftovers,
  waitFor,
  waitPodsReady,
  tearDown,
} from './sniff.support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-sniff-signals-'));
let ns = '';

/** Starts a capture with a unique marker in its filter, waits until it is capturing, then sends `signal`. */
async function captureThenSignal(extra: string[], signal: NodeJS.Signals, file: string) {
  const marker = `${40000 + Math.floor(Math.random() * 20000)}`;
  const capture = netdiag(['sniff', 'dnsloop', '-n', ns, '-f', `port 53 or port ${marker}`, '-o', file, ...extra]);
  await waitFor('the capture to start', () => /capturing /.test(capture.stderrSoFar()), 120_000);
  await new Promise((r) => setTimeout(r, 4000));
  assert.ok(
    hostProcesses(`port ${marker}`).some((p) => p.includes('tcpdump')),
    'tcpdump runs while capturing',
  );
  capture.child.kill(signal);
  return { run: await capture.done, marker };
}

/**
 * A TCP relay to the API server that the test can cut, and a kubeconfig that goes through it (TLS is end to end,
 * so the relay's address is not in the server certificate: the kubeconfig skips verification).
 */
async function cuttableApiServer(): Promise<{ kubeconfig: string; cut: () => void }> {
  const doc = parseYaml(kubectlOk(['config', 'view', '--raw', '--minify', '--flatten'])) as {
    clusters: { cluster: Record<string, unknown> }[];
  };
  const cluster = doc.clusters[0]!.cluster;
  const upstream = new URL(cluster.server as string);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const api = connect(Number(upstream.port || 443), upstream.hostname);
    for (const socket of [client, api]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(api).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  cluster.server = `https://127.0.0.1:${port}`;
  delete cluster['certificate-authority-data'];
  cluster['insecure-skip-tls-verify'] = true;
  const file = path.join(dir, 'cuttable-kubeconfig');
  writeFileSync(file, toYaml(doc));
  return {
    kubeconfig: file,
    cut: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

describe('sniff stop and cleanup', { timeout: 900_000 }, () => {
  before(() => {
    assert.ok(haveCluster(), `no cluster reachable with KUBECONFIG=${env.KUBECONFIG}`);
    ns = createNamespace('netdiag-e2e');
    kubectlOk(['apply', '-f', '-'], dnsLoopPod(ns, 'dnsloop', { nodeName: 'worker3.kube.local' }));
    waitPodsReady(ns, 'app=dnsloop', 1);
  });

  after(() => tearDown(dir, [ns]));

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} in ephemeral mode: exit 0, valid file, no tcpdump left`, async () => {
      const file = path.join(dir, `eph-${signal}.pcap`);
      const { run, marker } = await captureThenSignal([], signal, file);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /stopped by the user/);
      assert.equal(capinfos(file).status, 0, 'the file is a valid capture');
      assert.deepEqual(tcpdumpsInPod(ns, 'dnsloop'), []);
      assert.deepEqual(hostProcesses(`port ${marker}`), []);
    });

    it(`${signal} in node mode: exit 0, valid file, helper pod deleted`, async () => {
      const file = path.join(dir, `node-${signal}.pcap`);
      const { run, marker } = await captureThenSignal(['-p'], signal, file);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(capinfos(file).status, 0);
      assert.deepEqual(managedPods(), []);
      await waitFor('tcpdump to be gone from the node', () => hostProcesses(`port ${marker}`).length === 0, 15_000);
    });
  }

  it('stderr closed by its reader, then SIGTERM: the helper pod is still deleted', async () => {
    // `sniff … 2>&1 | less`, then quitting less: every later message fails with EPIPE.
    const file = path.join(dir, 'stderr-closed.pcap');
    const capture = netdiag(['sniff', 'dnsloop', '-n', ns, '-p', '-f', 'port 53', '-o', file]);
    await waitFor('the capture to start', () => /capturing /.test(capture.stderrSoFar()), 120_000);
    // dnsloop asks every second: packets are in the file by then (a capture stopped before its first packet
    // writes no file).
    await new Promise((r) => setTimeout(r, 4000));
    capture.child.stderr!.destroy();
    capture.child.kill('SIGTERM');
    const run = await capture.done;
    assert.equal(run.status, 0);
    assert.equal(capinfos(file).status, 0);
    assert.deepEqual(managedPods(), []);
  });

  it('SIGKILL of the client: tcpdump stops within the heartbeat bound, cleanup deletes the helper pod', async () => {
    const file = path.join(dir, 'killed.pcap');
    const { marker } = await captureThenSignal(['-p'], 'SIGKILL', file);
    const killedAt = Date.now();
    await waitFor(
      'the remote tcpdump to stop by itself',
      () => hostProcesses(`port ${marker}`).length === 0,
      60_000,
      1000,
    );
    const seconds = (Date.now() - killedAt) / 1000;
    assert.ok(seconds < 45, `tcpdump outlived its client by ${seconds}s`);
    assert.ok(managedPods().length > 0, 'the killed client could not delete its helper pod');
    const cleanup = await netdiag(['cleanup', '-A']).done;
    assert.equal(cleanup.status, 0, cleanup.stderr);
    await waitFor('helper pods to be gone', () => managedPods().length === 0, 60_000);
    assert.equal(capinfos(file).status, 0, 'what the killed client wrote is still readable');
  });

  it('SIGKILL in ephemeral mode: the tcpdump in the ephemeral container stops by itself', async () => {
    const file = path.join(dir, 'killed-eph.pcap');
    const { marker } = await captureThenSignal([], 'SIGKILL', file);
    await waitFor(
      'the remote tcpdump to stop by itself',
      () => hostProcesses(`port ${marker}`).length === 0 && tcpdumpsInPod(ns, 'dnsloop').length === 0,
      60_000,
      1000,
    );
    assert.equal(capinfos(file).status, 0, 'what the killed client wrote is still readable');
  });

  it('target pod deleted mid-capture: clear message, valid partial file, exit 3', async () => {
    kubectlOk(['apply', '-f', '-'], dnsLoopPod(ns, 'victim', { nodeName: 'worker2.kube.local' }));
    waitPodsReady(ns, 'app=victim', 1);
    const file = path.join(dir, 'victim.pcap');
    const capture = netdiag(['sniff', 'victim', '-n', ns, '-f', 'port 53', '-o', file]);
    await waitFor('the capture to start', () => /capturing /.test(capture.stderrSoFar()), 120_000);
    await new Promise((r) => setTimeout(r, 3000));
    kubectlOk(['delete', 'pod', '-n', ns, 'victim', '--wait=false']);
    const run = await capture.done;
    assert.equal(run.status, 3, run.stderr);
    assert.match(run.stderr, new RegExp(`error: target pod ${ns}/victim (was|is being) deleted during the capture`));
    const info = capinfos(file);
    assert.equal(info.status, 0, info.stderr);
    assert.ok(
      Number(/Number of packets:\s+(\d+)/.exec(info.stdout)?.[1] ?? 0) > 0,
      'packets captured before the deletion are kept',
    );
  });
  it('SIGKILL in upload mode: tcpdump stops by itself and cleanup removes the kept binary', async () => {
    const file = path.join(dir, 'killed-upload.pcap');
    const { marker } = await captureThenSignal(['--mode', 'upload'], 'SIGKILL', file);
    await waitFor('the uploaded tcpdump to stop', () => hostProcesses(`port ${marker}`).length === 0, 60_000, 1000);
    assert.equal(capinfos(file).status, 0, 'what the killed client wrote is still readable');
    // The killed client noted the upload when it made it, so cleanup knows where it is.
    const cleanup = await netdiag(['cleanup', '-n', ns]).done;
    assert.equal(cleanup.status, 0, cleanup.stderr);
    await waitFor('the kept upload and its watchdog to be gone', () => uploadLeftovers(ns, 'dnsloop') === '', 15_000);
  });

  it('API connection lost mid-capture: clear message, valid partial file, exit 3; tcpdump stops by itself', async () => {
    const api = await cuttableApiServer();
    const file = path.join(dir, 'api-lost.pcap');
    const marker = `${40000 + Math.floor(Math.random() * 20000)}`;
    const capture = netdiag([
      'sniff',
      'dnsloop',
      '-n',
      ns,
      '-f',
      `port 53 or port ${marker}`,
      '-o',
      file,
      '--kubeconfig',
      api.kubeconfig,
    ]);
    await waitFor('the capture to start', () => /capturing /.test(capture.stderrSoFar()), 120_000);
    await new Promise((r) => setTimeout(r, 3000));
    api.cut();
    const run = await capture.done;
    assert.equal(run.status, 3, run.stderr);
    assert.match(run.stderr, /^error: .*lost the connection to the Kubernetes API during the capture/m);
    assert.match(run.stderr, /^fix: /m);
    const info = capinfos(file);
    assert.equal(info.status, 0, info.stderr);
    assert.ok(Number(/Number of packets:\s+(\d+)/.exec(info.stdout)?.[1] ?? 0) > 0, 'packets before the loss are kept');
    await waitFor(
      'the remote tcpdump to stop by itself',
      () => hostProcesses(`port ${marker}`).length === 0,
      60_000,
      1000,
    );
  });
});
