/**
 * Acceptance tests of the lab itself (issue: a real 3-worker Kubernetes on one machine). They drive
 * scripts/lab and kubectl exactly as an operator would, so they need root and the lab's kubeconfig.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  createToolsPod,
  kubectl,
  lab,
  labScript,
  kubeconfig,
  podIP as podIPIn,
  run,
  skipUnlessLab,
  toolsPodPerNode,
  tryInPod as tryInPodIn,
  tryRun,
} from './support.js';

const ns = `lab-test-${randomBytes(3).toString('hex')}`;
const nodes = ['worker1.kube.local', 'worker2.kube.local', 'worker3.kube.local'];

const inPod = (pod: string, ...cmd: string[]): string => kubectl('-n', ns, 'exec', pod, '--', ...cmd);
const tryInPod = (pod: string, ...cmd: string[]) => tryInPodIn(ns, pod, ...cmd);
const podIP = (pod: string): string => podIPIn(ns, pod);

/** iperf3 client throughput in Mbit/s from pod `from` to the iperf3 server in pod `to`. */
function iperfMbps(from: string, to: string): number {
  const out = inPod(from, 'iperf3', '-c', podIP(to), '-t', '3', '-J');
  const result = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
  return result.end.sum_received.bits_per_second / 1e6;
}

function pingLossPercent(from: string, to: string): number {
  const r = tryInPod(from, 'ping', '-q', '-c', '60', '-i', '0.02', '-W', '1', podIP(to));
  const m = /(\d+(?:\.\d+)?)% packet loss/.exec(r.stdout);
  assert.ok(m, `ping printed no loss figure: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

describe('lab', { skip: skipUnlessLab }, () => {
  before(() => {
    kubectl('create', 'namespace', ns);
    // One tools pod per node running an iperf3 server, the way the plugin's helper pods run.
    toolsPodPerNode(ns, nodes, 'echo tools-ready; exec iperf3 -s');
    kubectl(
      '-n',
      ns,
      'expose',
      'pod',
      'tools-1',
      '--name',
      'svc-iperf',
      '--port',
      '5201',
      '--selector',
      'app=lab-test',
    );
  });

  after(() => {
    tryRun('bash', [labScript, 'fault', 'heal']);
    tryRun('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'namespace', ns, '--wait=true', '--timeout=120s']);
  });

  it('has 3 Ready workers named as a kubespray cluster', () => {
    const out = kubectl('get', 'nodes', '--no-headers');
    for (const node of nodes) assert.match(out, new RegExp(`^${node.replaceAll('.', '\\.')}\\s+Ready`, 'm'));
  });

  it('runs a pod on each node', () => {
    const placed = kubectl('-n', ns, 'get', 'pods', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}');
    assert.deepEqual(placed.trim().split('\n').sort(), nodes);
  });

  it('routes pod to pod across nodes over the underlay', () => {
    const r = tryInPod('tools-1', 'ping', '-c', '2', '-W', '2', podIP('tools-3'));
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    // Two hops (the source node, the target node): the packet really left worker1 and entered worker3.
    assert.match(r.stdout, /ttl=62/);
  });

  it('balances a Service over pods on two nodes', () => {
    kubectl('-n', ns, 'create', 'service', 'clusterip', 'svc-http', '--tcp=8080:8080');
    kubectl('-n', ns, 'set', 'selector', 'service', 'svc-http', 'app=lab-web');
    for (const i of [2, 3]) {
      inPod(`tools-${i}`, 'true');
      createToolsPod(
        ns,
        `web-${i}`,
        nodes[i - 1] ?? '',
        { app: 'lab-web' },
        `while true; do printf 'HTTP/1.0 200 OK\\r\\n\\r\\nweb-${i}\\n' | nc -l -p 8080 -q 1; done`,
      );
    }
    kubectl('-n', ns, 'wait', '--for=condition=Ready', 'pod', '-l', 'app=lab-web', '--timeout=120s');
    // A name looked up before CoreDNS has the new Service is cached as NXDOMAIN for up to 30 s (the
    // Corefile's `cache 30`, then nodelocaldns), so keep asking past that window instead of 40 quick tries.
    const seen = new Set<string>();
    const deadline = Date.now() + 90_000;
    let last = '';
    while (seen.size < 2 && Date.now() < deadline) {
      const r = tryInPod('tools-1', 'curl', '-sS', '-m', '3', `http://svc-http.${ns}.svc.cluster.local:8080/`);
      if (r.code === 0) {
        seen.add(r.stdout.trim());
      } else {
        last = `curl exit ${r.code}: ${r.stderr.trim()}`;
        run('sleep', ['1']);
      }
    }
    assert.deepEqual([...seen].sort(), ['web-2', 'web-3'], last);
  });

  it('resolves kubernetes.default to 10.233.0.1 through nodelocaldns 169.254.25.10', () => {
    const out = inPod('tools-2', 'nslookup', 'kubernetes.default');
    assert.match(out, /Server:\s+169\.254\.25\.10/);
    assert.match(out, /Name:\s+kubernetes\.default\.svc\.cluster\.local\s+Address: 10\.233\.0\.1/);
    assert.match(inPod('tools-2', 'cat', '/etc/resolv.conf'), /nameserver 169\.254\.25\.10/);
    const svc = kubectl('-n', 'kube-system', 'get', 'svc', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}');
    assert.equal(svc, '10.233.0.10');
  });

  it('supports kubectl exec, logs and debug with an ephemeral container', () => {
    assert.equal(inPod('tools-3', 'hostname').trim(), 'tools-3');
    assert.match(kubectl('-n', ns, 'logs', 'tools-3'), /tools-ready/);
    kubectl(
      '-n',
      ns,
      'debug',
      'tools-3',
      '--image=ghcr.io/kubectl-netdiag/tools:0.1.0',
      '--target=tools',
      '--image-pull-policy=IfNotPresent',
      '--attach=false',
      '-c',
      'dbg',
      '--',
      'sleep',
      '60',
    );
    kubectl(
      '-n',
      ns,
      'wait',
      'pod/tools-3',
      '--for=jsonpath={.status.ephemeralContainerStatuses[0].state.running}',
      '--timeout=60s',
    );
    // The ephemeral container shares the target's process namespace: it sees iperf3.
    assert.match(kubectl('-n', ns, 'exec', 'tools-3', '-c', 'dbg', '--', 'ps', 'ax'), /iperf3 -s/);
  });

  it('fault rate caps iperf3 between two nodes and heal lifts it', () => {
    lab('fault', 'rate', 'worker2', '50');
    const capped = iperfMbps('tools-1', 'tools-2');
    assert.ok(capped < 60, `expected ≤ ~50 Mbit/s under the fault, got ${capped.toFixed(1)}`);
    lab('fault', 'heal');
    const healed = iperfMbps('tools-1', 'tools-2');
    assert.ok(
      healed > 3 * capped,
      `expected far more than ${capped.toFixed(1)} Mbit/s after heal, got ${healed.toFixed(1)}`,
    );
  });

  it('fault loss drops packets on the node uplink and heal restores them', () => {
    lab('fault', 'loss', 'worker3', '30');
    assert.match(lab('status'), /loss worker3\.kube\.local 30%/);
    const lossy = pingLossPercent('tools-1', 'tools-3');
    assert.ok(lossy >= 20, `expected heavy loss, got ${lossy}%`);
    lab('fault', 'heal');
    assert.equal(pingLossPercent('tools-1', 'tools-3'), 0);
  });

  it('fault mtu breaks large unfragmentable packets and heal restores them', () => {
    const target = podIP('tools-2');
    lab('fault', 'mtu', 'worker2', '1200');
    assert.equal(tryInPod('tools-1', 'ping', '-c', '1', '-W', '2', '-s', '1000', '-M', 'do', target).code, 0);
    assert.notEqual(tryInPod('tools-1', 'ping', '-c', '2', '-W', '2', '-s', '1400', '-M', 'do', target).code, 0);
    lab('fault', 'heal');
    assert.equal(tryInPod('tools-1', 'ping', '-c', '1', '-W', '2', '-s', '1400', '-M', 'do', target).code, 0);
  });

  it('fault block drops one port to a node and heal reopens it', () => {
    const target = podIP('tools-3');
    assert.equal(tryInPod('tools-1', 'nc', '-z', '-w', '2', target, '5201').code, 0);
    lab('fault', 'block', 'worker3', 'tcp/5201');
    assert.notEqual(tryInPod('tools-1', 'nc', '-z', '-w', '2', target, '5201').code, 0);
    // Only that port: DNS over UDP from the same pod still works.
    assert.equal(tryInPod('tools-3', 'nslookup', 'kubernetes.default').code, 0);
    lab('fault', 'heal');
    assert.equal(tryInPod('tools-1', 'nc', '-z', '-w', '2', target, '5201').code, 0);
  });

  it('fault apiserver-restart restarts the API server and the cluster carries on', () => {
    const before = run('pgrep', ['-f', 'bin/kube-apiserver']).trim();
    lab('fault', 'apiserver-restart');
    const after = run('pgrep', ['-f', 'bin/kube-apiserver']).trim();
    assert.notEqual(after, before);
    assert.match(kubectl('get', 'nodes'), /worker1\.kube\.local\s+Ready/);
  });
});
