/**
 * `kubectl netdiag node` end to end on the cluster in KUBECONFIG (the lab by default), run as a user runs it. The
 * second test changes two nodes of the lab for a few seconds — a loose rp_filter in one node's network namespace and
 * a CNI config file that sorts after the real one (so the runtime ignores it) in another's config directory — and
 * puts both back: neither changes what pods get.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { DiagnosticResult } from '../../src/findings/model.js';
import type { NodeData } from '../../src/node/engine.js';
import { NODE_IDS } from '../../src/node/ids.js';
import { readTarGz } from '../tar.js';
import { haveCluster, kubectlOk, netdiag, tearDown } from './sniff.support.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'netdiag-node-'));
const skip = haveCluster() ? false : 'no cluster in KUBECONFIG';

interface Node {
  name: string;
  runtime: string;
}

const clusterNodes = (): Node[] =>
  kubectlOk([
    'get',
    'nodes',
    '-o',
    'jsonpath={range .items[*]}{.metadata.name} {.status.nodeInfo.containerRuntimeVersion}{"\\n"}{end}',
  ])
    .trim()
    .split('\n')
    .map((line) => {
      const [name = '', runtime = ''] = line.split(' ');
      return { name, runtime };
    });

async function runNode(args: readonly string[]) {
  const run = await netdiag(['node', '--pod-running-timeout', '3m', ...args]).done;
  let result: DiagnosticResult<NodeData>;
  try {
    // The harness keeps stdout as latin1 (byte for byte, for pcap); the report is UTF-8 (→ in the CNI chain).
    result = JSON.parse(Buffer.from(run.stdout, 'latin1').toString('utf8')) as DiagnosticResult<NodeData>;
  } catch {
    assert.fail(
      `node ${args.join(' ')} printed no JSON (exit ${run.status}): ${run.stdout.slice(0, 500)}\n${run.stderr}`,
    );
  }
  return { ...run, result };
}

describe('kubectl netdiag node', { skip }, () => {
  after(() => tearDown(scratch, []));

  it('healthy cluster: real facts of every node, no failure, no odd one out, and a bundle with them', async () => {
    const bundle = path.join(scratch, 'nodes.tar.gz');
    const { status, stderr, result } = await runNode(['-o', 'json', '-v', '--bundle', bundle]);
    assert.equal(status, 0, stderr);
    const failed = result.findings.filter((f) => f.status === 'fail');
    assert.deepEqual(failed, [], 'no check fails on a healthy cluster');
    assert.deepEqual(result.unavailable, []);
    const expected = clusterNodes();
    assert.deepEqual(result.data.nodes.map((n) => n.node).sort(), expected.map((n) => n.name).sort());
    for (const node of expected) {
      const facts = result.data.nodes.find((n) => n.node === node.name)!;
      assert.equal(`${facts.runtime.name}://${facts.runtime.version}`, node.runtime, 'the runtime kubelet reports');
      assert.ok(facts.runtime.running && (facts.runtime.containers?.containers.length ?? 0) > 0, 'its containers');
      assert.ok(facts.cni.active?.endsWith('.conflist'), `a CNI config on ${node.name}`);
      assert.ok(facts.cni.binaries.length > 0 && facts.cni.binaries.every((b) => b.dir !== undefined), 'CNI binaries');
      assert.equal(facts.kubeProxy.mode, 'iptables');
      assert.ok(
        facts.kubeProxy.programmed.includes('default/kubernetes:https'),
        'the kubernetes Service is programmed',
      );
      assert.equal(facts.network.underlay?.mtu, 1500);
      // A node that runs no pod-network pod yet (right after the lab starts) has no pod veth and no cni0 to read it from.
      if (facts.network.podMtu !== undefined) assert.equal(facts.network.podMtu, 1500);
      else
        assert.equal(
          result.findings.find((f) => f.id === NODE_IDS.interfaceMtu && f.subject === `node/${node.name}`)?.status,
          'skip',
        );
      const uplink = facts.counters.find((c) => c.name === facts.network.underlay?.device);
      assert.ok((uplink?.statistics['rx_packets'] ?? 0) > 0, 'uplink counters');
      assert.equal(facts.sysctls['net.ipv4.ip_forward'], '1');
    }
    const odd = result.findings.filter((f) => f.id === NODE_IDS.oddOneOut);
    assert.deepEqual(
      odd.map((f) => [f.subject, f.status]),
      [['cluster', 'pass']],
    );
    const requests = Number(/api requests: (\d+)/.exec(stderr)?.[1]);
    assert.ok(requests > 0, `-v prints the API request count: ${stderr.slice(-500)}`);

    const files = await readTarGz(bundle);
    assert.deepEqual(JSON.parse(files.get('netdiag-node/result.json') ?? '{}'), result);
    for (const node of expected) {
      const folder = `netdiag-node/${node.name}`;
      const addresses = JSON.parse(files.get(`${folder}/ip-addr.json`) ?? '[]') as { ifname: string }[];
      assert.ok(
        addresses.some((a) => a.ifname === 'lo'),
        `${folder}/ip-addr.json`,
      );
      assert.match(files.get(`${folder}/counters.txt`) ?? '', /^\*nat$/m, 'iptables-save in the bundle');
      assert.match(files.get(`${folder}/sysctl-all.txt`) ?? '', /^net\.ipv4\.ip_forward = 1$/m);
      const facts = result.data.nodes.find((n) => n.node === node.name)!;
      assert.ok(files.has(`${folder}/cni/net.d/${facts.cni.active}`), 'the CNI config');
      assert.ok(files.has(`${folder}/ip-neigh.json`) && files.has(`${folder}/ss-s.txt`), 'neighbours and ss -s');
    }
  });

  it('a node with a changed sysctl and a node with an extra CNI config file are each the odd one out', async (t) => {
    const nodes = clusterNodes()
      .map((n) => n.name)
      .sort();
    const netns = (node: string) => `/run/netns/ndlab-${node.split('.')[0]}`;
    if (nodes.length < 3 || !existsSync(netns(nodes[0]!))) {
      t.skip('needs the lab (3 workers in network namespaces) to change a node');
      return;
    }
    const [sysctlNode = '', cniNode = ''] = nodes;
    const before = await runNode(['-o', 'json', '--nodes', cniNode]);
    const confDir = before.result.data.nodes[0]?.cni.confDir ?? '';
    // The runtime reads its config directory from the host's filesystem in the lab (workers share it).
    const extra = path.join(confDir, '99-netdiag-e2e.conflist');
    const rpFilter = ['nsenter', `--net=${netns(sysctlNode)}`, '--', 'sysctl', '-n', 'net.ipv4.conf.all.rp_filter'];
    const original = spawnSync(rpFilter[0]!, rpFilter.slice(1), { encoding: 'utf8' }).stdout.trim();
    assert.match(original, /^[012]$/);
    const changed = original === '2' ? '0' : '2';
    const setRpFilter = (value: string) =>
      assert.equal(
        spawnSync('nsenter', [
          `--net=${netns(sysctlNode)}`,
          '--',
          'sysctl',
          '-qw',
          `net.ipv4.conf.all.rp_filter=${value}`,
        ]).status,
        0,
      );
    try {
      writeFileSync(extra, JSON.stringify({ cniVersion: '1.0.0', name: 'leftover', plugins: [{ type: 'loopback' }] }));
      setRpFilter(changed);
      const { status, stderr, result } = await runNode(['-o', 'json']);
      assert.equal(status, 0, `odd ones out are warnings: ${stderr}`);
      const odd = result.findings.filter((f) => f.id === NODE_IDS.oddOneOut);
      assert.deepEqual(odd.map((f) => [f.subject, f.status]).sort(), [
        [`node/${sysctlNode}`, 'warn'],
        [`node/${cniNode}`, 'warn'],
      ]);
      assert.equal(odd.find((f) => f.subject === `node/${sysctlNode}`)?.metrics?.['rp_filter (all)'], changed);
      assert.match(
        String(odd.find((f) => f.subject === `node/${cniNode}`)?.metrics?.['CNI config']),
        /99-netdiag-e2e\.conflist/,
      );
      const cni = result.findings.find((f) => f.id === NODE_IDS.cniConfig && f.subject === `node/${cniNode}`);
      assert.equal(cni?.status, 'warn', 'the ignored file is named');
    } finally {
      rmSync(extra, { force: true });
      setRpFilter(original);
    }
  });
});
