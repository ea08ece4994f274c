/**
 * The lab's outside world (issue 10): from a pod on every node, names of netdiag.test resolve through
 * nodelocaldns → CoreDNS → the world's resolver, and the world's services answer as documented in docs/lab.md.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { kubectl, readyNodes, run, skipUnlessLab, toolsPodPerNode, tryInPod as tryInPodIn } from './support.js';

const ns = `lab-world-${randomBytes(3).toString('hex')}`;
const www = '172.30.78.80';
const api = '172.30.78.81';
const resolver = '172.30.78.53';
const page = 'netdiag-lab world: www.netdiag.test';

describe('the outside world', { skip: skipUnlessLab }, () => {
  let pods: { pod: string; node: string }[] = [];
  const tryInPod = (pod: string, ...cmd: string[]) => tryInPodIn(ns, pod, ...cmd);
  const okInPod = (pod: string, ...cmd: string[]): string => {
    const r = tryInPod(pod, ...cmd);
    assert.equal(r.code, 0, `${cmd.join(' ')} in ${pod}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };

  before(() => {
    const nodes = readyNodes();
    kubectl('create', 'namespace', ns);
    toolsPodPerNode(ns, nodes, 'exec sleep infinity');
    pods = nodes.map((node, i) => ({ pod: `tools-${i + 1}`, node }));
  });

  after(() => {
    kubectl('delete', 'namespace', ns, '--wait=false');
  });

  it('resolves www.netdiag.test from every node through nodelocaldns, CoreDNS and the world', () => {
    const corefile = kubectl('-n', 'kube-system', 'get', 'configmap', 'coredns', '-o', 'jsonpath={.data.Corefile}');
    assert.match(corefile, new RegExp(`forward \\. ${resolver.replaceAll('.', '\\.')}`));
    for (const { pod } of pods) {
      const out = okInPod(pod, 'nslookup', 'www.netdiag.test');
      assert.match(out, /Server:\s+169\.254\.25\.10/);
      assert.match(out, /Name:\s+www\.netdiag\.test\s+Address: 172\.30\.78\.80/);
      // Each hop of the chain answers on its own too.
      assert.equal(okInPod(pod, 'dig', '+short', '@10.233.0.10', 'www.netdiag.test').trim(), www);
      assert.equal(okInPod(pod, 'dig', '+short', `@${resolver}`, 'www.netdiag.test').trim(), www);
    }
  });

  it('serves api, a CNAME chain and a wildcard, and NXDOMAIN for names outside the zone', () => {
    const [first] = pods;
    assert.ok(first);
    assert.equal(okInPod(first.pod, 'dig', '+short', 'api.netdiag.test').trim(), api);
    assert.deepEqual(okInPod(first.pod, 'dig', '+short', 'alias.netdiag.test').trim().split('\n'), [
      'alias2.netdiag.test.',
      'www.netdiag.test.',
      www,
    ]);
    const fresh = `${randomBytes(4).toString('hex')}.wild.netdiag.test`;
    assert.equal(okInPod(first.pod, 'dig', '+short', fresh).trim(), www);
    assert.match(okInPod(first.pod, 'dig', 'google.com'), /status: NXDOMAIN/);
  });

  it('answers big.netdiag.test over TCP and truncates it over UDP', () => {
    for (const { pod } of pods) {
      const addresses = okInPod(pod, 'dig', '+tcp', '+short', 'big.netdiag.test').trim().split('\n');
      assert.equal(addresses.length, 100, addresses.join(' '));
      const udp = okInPod(pod, 'dig', '+notcp', '+ignore', 'big.netdiag.test');
      assert.match(udp, /flags:[^;]*\btc\b/, udp);
    }
  });

  it('opens :80 and :8080, refuses :81 and drops :82 of www.netdiag.test from every node', () => {
    for (const { pod } of pods) {
      for (const port of ['80', '8080']) okInPod(pod, 'nc', '-z', '-w', '2', 'www.netdiag.test', port);
      const refused = tryInPod(pod, 'nc', '-vz', '-w', '2', 'www.netdiag.test', '81');
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /Connection refused/);
      const filtered = tryInPod(pod, 'nc', '-vz', '-w', '2', 'www.netdiag.test', '82');
      assert.notEqual(filtered.code, 0);
      assert.doesNotMatch(filtered.stderr, /refused/);
      assert.ok(filtered.ms >= 2000, `:82 should time out, it failed after ${filtered.ms} ms: ${filtered.stderr}`);
    }
  });

  it('echoes on :8080 over TCP and UDP', () => {
    const [first] = pods;
    assert.ok(first);
    assert.equal(
      okInPod(first.pod, 'sh', '-c', 'echo hello-tcp | nc -q 1 -w 2 www.netdiag.test 8080').trim(),
      'hello-tcp',
    );
    assert.equal(
      okInPod(first.pod, 'sh', '-c', 'echo hello-udp | nc -u -w 1 www.netdiag.test 8080').trim(),
      'hello-udp',
    );
  });

  it("serves the world's page by name and by address; pods arrive masqueraded to their node", () => {
    for (const { pod, node } of pods) {
      assert.equal(okInPod(pod, 'wget', '-qO-', 'http://www.netdiag.test/').trim(), page);
      assert.equal(okInPod(pod, 'wget', '-qO-', `http://${www}/`).trim(), page);
      const nodeIP = kubectl(
        'get',
        'node',
        node,
        '-o',
        'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}',
      );
      assert.equal(okInPod(pod, 'wget', '-qO-', 'http://www.netdiag.test/ip').trim(), nodeIP);
    }
  });

  it('gives the world no way out of the machine', () => {
    // Its only routes are its own subnet and the lab's underlay.
    const routes = run('ip', ['-n', 'ndlab-world', '-4', 'route', 'show'])
      .trim()
      .split('\n')
      .map((route) => route.trim())
      .sort();
    assert.deepEqual(routes, [
      '172.30.77.0/24 via 172.30.78.1 dev eth0',
      '172.30.78.0/24 dev eth0 proto kernel scope link src 172.30.78.53',
    ]);
    // The host forwards between the lab's bridge and the world only, both ways, and drops the rest.
    const forward = run('iptables', ['-S', 'FORWARD']);
    for (const rule of [
      '-A FORWARD -i ndlab0 -o ndlab-world -m comment --comment netdiag-lab -j ACCEPT',
      '-A FORWARD -i ndlab-world -o ndlab0 -m comment --comment netdiag-lab -j ACCEPT',
      '-A FORWARD -o ndlab-world -m comment --comment netdiag-lab -j DROP',
      '-A FORWARD -i ndlab-world -m comment --comment netdiag-lab -j DROP',
      '-A FORWARD -i ndlab0 ! -o ndlab0 -m comment --comment netdiag-lab -j DROP',
    ]) {
      assert.ok(forward.includes(rule), `missing: ${rule}\n${forward}`);
    }
  });
});
