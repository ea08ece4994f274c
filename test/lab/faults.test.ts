/**
 * The lab's DNS, service-path, egress and pod-network faults (issue 10): each one breaks exactly what its name
 * says, on the node it names and nowhere else, `lab status` lists it, and `lab fault heal` restores it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  kubectl,
  lab,
  labScript,
  podIP as podIPIn,
  readyNodes,
  skipUnlessLab,
  toolsPodPerNode,
  tryInPod,
  tryRun,
} from './support.js';

const ns = `lab-faults-${randomBytes(3).toString('hex')}`;
const nodelocal = '169.254.25.10';
const clusterDNS = '10.233.0.10';
const worldResolver = '172.30.78.53';
const www = '172.30.78.80';
const clusterName = 'kubernetes.default.svc.cluster.local';
const freshName = (): string => `${randomBytes(4).toString('hex')}.wild.netdiag.test`;

interface Lookup {
  answered: boolean;
  /** dig's own measure of the query, when there was an answer. */
  queryMs?: number;
  output: string;
}

/** One query, one try, two seconds: answered means NOERROR with an address. */
function lookup(pod: string, server: string, name: string): Lookup {
  const r = tryInPod(ns, pod, 'dig', '+time=2', '+tries=1', `@${server}`, name);
  const answered = r.code === 0 && /status: NOERROR/.test(r.stdout) && /ANSWER: [1-9]/.test(r.stdout);
  const time = /Query time: (\d+) msec/.exec(r.stdout);
  return { answered, queryMs: time ? Number(time[1]) : undefined, output: `${r.stdout}${r.stderr}` };
}

const connects = (pod: string, host: string, port: string): boolean =>
  tryInPod(ns, pod, 'nc', '-z', '-w', '2', host, port).code === 0;
const pings = (pod: string, host: string): boolean => tryInPod(ns, pod, 'ping', '-c', '1', '-W', '2', host).code === 0;

/** Injects a fault, checks `lab status` lists it, runs the checks and always heals. */
function withFault(fault: string[], listed: RegExp, checks: () => void): void {
  lab('fault', ...fault);
  try {
    assert.match(lab('status'), listed);
    checks();
  } finally {
    lab('fault', 'heal');
  }
  assert.match(lab('status'), /== faults\nnone/);
}

describe('lab faults', { skip: skipUnlessLab }, () => {
  let nodes: string[] = [];
  const podIP = (pod: string): string => podIPIn(ns, pod);
  const nodeIP = (node: string): string =>
    kubectl('get', 'node', node, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}');
  let echoService = '';

  before(() => {
    nodes = readyNodes().slice(0, 3);
    assert.equal(nodes.length, 3, 'the fault tests need 3 Ready workers');
    kubectl('create', 'namespace', ns);
    toolsPodPerNode(ns, nodes, "exec socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo pong'");
    // A Service whose only endpoint is tools-1 (on the first node).
    kubectl('-n', ns, 'label', 'pod', 'tools-1', 'role=echo');
    kubectl('-n', ns, 'create', 'service', 'clusterip', 'echo', '--tcp=8080:8080');
    kubectl('-n', ns, 'set', 'selector', 'service', 'echo', 'role=echo');
    echoService = kubectl('-n', ns, 'get', 'service', 'echo', '-o', 'jsonpath={.spec.clusterIP}');
  });

  after(() => {
    tryRun('bash', [labScript, 'fault', 'heal']);
    kubectl('delete', 'namespace', ns, '--wait=false');
  });

  it('nodelocaldns-down NODE: 169.254.25.10 stops answering on that node only; 10.233.0.10 still does', () => {
    withFault(['nodelocaldns-down', 'worker2'], /nodelocaldns-down worker2\.kube\.local/, () => {
      const down = lookup('tools-2', nodelocal, clusterName);
      assert.equal(down.answered, false, down.output);
      assert.ok(lookup('tools-2', clusterDNS, clusterName).answered, 'CoreDNS through the Service on the node');
      for (const pod of ['tools-1', 'tools-3']) assert.ok(lookup(pod, nodelocal, clusterName).answered, pod);
    });
    assert.ok(lookup('tools-2', nodelocal, clusterName).answered, 'healed');
  });

  it('coredns-down: no CoreDNS pod, 10.233.0.10 answers nothing; the world resolver still does', () => {
    withFault(['coredns-down'], /^coredns-down$/m, () => {
      const down = lookup('tools-1', clusterDNS, freshName());
      assert.equal(down.answered, false, down.output);
      assert.equal(kubectl('-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-dns', '-o', 'name'), '');
      assert.ok(lookup('tools-1', worldResolver, 'www.netdiag.test').answered);
    });
    assert.ok(lookup('tools-1', clusterDNS, freshName()).answered, 'healed');
  });

  it('coredns-slow MS: CoreDNS answers MS late; the world and cached names stay fast', () => {
    const cached = `${randomBytes(4).toString('hex')}.wild.netdiag.test`;
    assert.ok(lookup('tools-1', nodelocal, cached).answered);
    withFault(['coredns-slow', '800'], /coredns-slow 800ms/, () => {
      for (const pod of ['tools-1', 'tools-3']) {
        const slow = lookup(pod, clusterDNS, freshName());
        assert.ok(slow.answered, slow.output);
        assert.ok((slow.queryMs ?? 0) >= 750, `expected ≥ 800 ms, got ${slow.queryMs} ms`);
      }
      const direct = lookup('tools-1', worldResolver, freshName());
      assert.ok(direct.answered && (direct.queryMs ?? 1e9) < 300, direct.output);
      const fromCache = lookup('tools-1', nodelocal, cached);
      assert.ok(fromCache.answered && (fromCache.queryMs ?? 1e9) < 300, fromCache.output);
    });
    const healed = lookup('tools-1', clusterDNS, freshName());
    assert.ok(healed.answered && (healed.queryMs ?? 1e9) < 300, healed.output);
  });

  it("upstream-down: names of the world stop resolving; cluster names and the world's services do not", () => {
    withFault(['upstream-down'], /upstream-down 172\.30\.78\.53/, () => {
      const down = lookup('tools-1', nodelocal, freshName());
      assert.equal(down.answered, false, down.output);
      assert.ok(lookup('tools-1', nodelocal, clusterName).answered);
      assert.ok(connects('tools-1', www, '80'));
    });
    // CoreDNS's forwarder may take a moment to find its upstream healthy again.
    let healed = lookup('tools-1', nodelocal, freshName());
    for (let i = 0; i < 10 && !healed.answered; i++) healed = lookup('tools-1', nodelocal, freshName());
    assert.ok(healed.answered, healed.output);
  });

  it('egress-block NODE: that node and its pods cannot reach the world, DNS and cluster traffic still work', () => {
    withFault(['egress-block', 'worker2'], /egress-block worker2\.kube\.local/, () => {
      assert.equal(connects('tools-2', www, '80'), false);
      assert.equal(pings('tools-2', www), false);
      const fromNode = tryRun('ip', ['netns', 'exec', 'ndlab-worker2', 'curl', '-sS', '-m', '2', `http://${www}/`]);
      assert.notEqual(fromNode.code, 0, 'from the node itself');
      assert.ok(lookup('tools-2', nodelocal, freshName()).answered, 'DNS to the world still works');
      assert.ok(pings('tools-2', podIP('tools-1')), 'pod to pod');
      for (const pod of ['tools-1', 'tools-3']) assert.ok(connects(pod, www, '80'), pod);
    });
    assert.ok(connects('tools-2', www, '80'), 'healed');
  });

  it('kube-proxy-broken NODE: Service IPs fail on that node only; pod IPs still work there', () => {
    assert.ok(connects('tools-3', echoService, '8080'));
    withFault(['kube-proxy-broken', 'worker3'], /kube-proxy-broken worker3\.kube\.local/, () => {
      assert.equal(connects('tools-3', echoService, '8080'), false);
      assert.ok(connects('tools-3', podIP('tools-1'), '8080'), 'pod IP from the broken node');
      assert.ok(connects('tools-2', echoService, '8080'), 'Service IP from another node');
      const nat = tryRun('ip', ['netns', 'exec', 'ndlab-worker3', 'iptables', '-t', 'nat', '-S', 'KUBE-SERVICES']);
      assert.doesNotMatch(nat.stdout, /KUBE-SVC-/);
    });
    assert.ok(connects('tools-3', echoService, '8080'), 'healed');
  });

  it('podnet-split A B: pod traffic between the two nodes breaks; every other path works', () => {
    withFault(['podnet-split', 'worker1', 'worker2'], /podnet-split worker1\.kube\.local worker2\.kube\.local/, () => {
      assert.equal(pings('tools-1', podIP('tools-2')), false);
      assert.equal(pings('tools-2', podIP('tools-1')), false);
      assert.ok(pings('tools-1', podIP('tools-3')), 'worker1 → worker3');
      assert.ok(pings('tools-3', podIP('tools-2')), 'worker3 → worker2');
      assert.ok(pings('tools-1', nodeIP(nodes[1] ?? '')), 'pod on worker1 → worker2 node address');
    });
    assert.ok(pings('tools-1', podIP('tools-2')), 'healed');
  });
});
