import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '../../../src/findings/model.js';
import {
  clusterUsesKubeProxy,
  fleetRows,
  kubeProxyCoverage,
  nodeFindings,
  oddOneOutFindings,
  type ExpectedServicePort,
  type NodeCheckInput,
} from '../../../src/node/checks.js';
import { discover, nodeFacts, type NodeFacts } from '../../../src/node/facts.js';
import { NODE_IDS } from '../../../src/node/ids.js';
import { LAB_PEERS, labFacts, labIdentity, sections } from './fixtures.js';

const worker1 = labFacts(1);
const LAB_SERVICES: ExpectedServicePort[] = [
  'default/kubernetes:https',
  'kube-system/kube-dns:dns',
  'kube-system/kube-dns:dns-tcp',
  'kube-system/kube-dns:metrics',
].map((key) => ({ key, clusterIPs: [key.startsWith('default') ? '10.233.0.1' : '10.233.0.10'], settled: true }));

function check(facts: NodeFacts, overrides: Partial<NodeCheckInput> = {}): Map<string, Finding> {
  const findings = nodeFindings({
    facts,
    sections: worker1.inspected,
    services: LAB_SERVICES,
    clusterUsesKubeProxy: true,
    ...overrides,
  });
  return new Map(findings.map((finding) => [finding.id, finding]));
}

type Patch = (facts: NodeFacts) => NodeFacts;
const with_ = (patch: Patch): NodeFacts => patch(structuredClone(worker1.facts));
/** `tc qdisc replace dev eth0 root tbf rate 100mbit …`, as the lab's `fault rate` does. */
const withUplinkTbf: Patch = (f) => ({
  ...f,
  qdiscs: f.qdiscs.map((q) =>
    q.device === 'eth0' ? { ...q, kind: 'tbf', handle: '8033:', rateBitsPerSecond: 100e6, overlimits: 9365 } : q,
  ),
});

describe('the lab’s node facts', () => {
  const facts = worker1.facts;
  it('are read from the real output', () => {
    assert.equal(facts.runtime.name, 'containerd');
    assert.equal(facts.runtime.version, '1.6.20');
    assert.equal(facts.cni.active, '10-netdiag-lab.conflist');
    assert.deepEqual(facts.cni.binaries, [
      { type: 'bridge', dir: '/usr/lib/cni' },
      { type: 'host-local', dir: '/usr/lib/cni' },
      { type: 'portmap', dir: '/usr/lib/cni' },
    ]);
    assert.equal(facts.kubeProxy.mode, 'iptables');
    assert.equal(facts.kubeProxy.modeFrom, 'metrics');
    assert.equal(facts.iptables.backend, 'nft');
    assert.equal(facts.iptables.legacyRules, 0);
    assert.deepEqual(facts.network.underlay, { device: 'eth0', mtu: 1500, address: '172.30.77.11' });
    assert.equal(facts.network.kind, 'flat');
    assert.equal(facts.network.podMtu, 1500);
    assert.equal(facts.network.maxPodMtu, 1500);
    assert.deepEqual(
      facts.network.podRoutes.map((r) => [r.node, r.kind, r.gateway]),
      [
        ['worker2.kube.local', 'specific', '172.30.77.12'],
        ['worker3.kube.local', 'specific', '172.30.77.13'],
      ],
    );
    assert.equal(facts.sysctls['net.ipv4.conf.<underlay>.rp_filter'], '0');
    assert.equal(facts.conntrack.max, 262144);
    assert.ok(facts.counters.some((c) => c.name === 'eth0' && (c.statistics['rx_packets'] ?? 0) > 0));
  });
  it('pass every check', () => {
    const findings = check(facts);
    assert.deepEqual(
      [...findings.values()].filter((f) => f.status !== 'pass').map((f) => `${f.id}: ${f.summary}`),
      [],
    );
    assert.equal(findings.size, 11);
    assert.ok([...findings.values()].every((f) => f.subject === 'node/worker1.kube.local' && f.evidence.length > 0));
  });
});

describe('checks on changed facts', () => {
  const cases: {
    name: string;
    patch: Patch;
    id: string;
    status: string;
    summary: RegExp;
    overrides?: Partial<NodeCheckInput>;
  }[] = [
    {
      name: 'no CNI config',
      patch: (f) => ({ ...f, cni: { ...f.cni, files: [], active: undefined, binaries: [] } }),
      id: NODE_IDS.cniConfig,
      status: 'fail',
      summary: /no CNI config in \/var\/lib\/netdiag-lab\/nodes\/worker1\/cni-conf/,
    },
    {
      name: 'a leftover config next to the active one',
      patch: (f) => ({ ...f, cni: { ...f.cni, ignored: ['20-flannel.conflist'] } }),
      id: NODE_IDS.cniConfig,
      status: 'warn',
      summary: /20-flannel\.conflist is also in .* and ignored/,
    },
    {
      name: 'the active config is invalid',
      patch: (f) => ({
        ...f,
        cni: { ...f.cni, files: f.cni.files.map((file) => ({ ...file, valid: false, error: 'bad JSON' })) },
      }),
      id: NODE_IDS.cniConfig,
      status: 'fail',
      summary: /is invalid: bad JSON/,
    },
    {
      name: 'a plugin binary missing',
      patch: (f) => ({ ...f, cni: { ...f.cni, binaries: [...f.cni.binaries, { type: 'flannel' }] } }),
      id: NODE_IDS.cniBinaries,
      status: 'fail',
      summary: /no binary for CNI plugin flannel/,
    },
    {
      name: 'the runtime process gone',
      patch: (f) => ({ ...f, runtime: { ...f.runtime, running: false } }),
      id: NODE_IDS.runtime,
      status: 'fail',
      summary: /kubelet talks to unix:\/\/\/run\/netdiag-lab\/worker1\/containerd\.sock, but no containerd process/,
    },
    {
      name: 'kube-proxy stopped and KUBE-SERVICES flushed (the lab’s kube-proxy-broken)',
      patch: (f) => ({
        ...f,
        kubeProxy: { ...f.kubeProxy, running: false, mode: 'iptables', servicesChain: false, programmed: [] },
      }),
      id: NODE_IDS.kubeProxyRules,
      status: 'fail',
      summary: /kube-proxy is not running here and KUBE-SERVICES is empty or missing/,
    },
    {
      name: 'kube-proxy stopped, its rules left as they were',
      patch: (f) => ({ ...f, kubeProxy: { ...f.kubeProxy, running: false } }),
      id: NODE_IDS.kubeProxyRules,
      status: 'fail',
      summary: /iptables mode: kube-proxy is not running \(its rules stay as they were\)/,
    },
    {
      name: 'kube-proxy unhealthy by its own /healthz',
      patch: (f) => ({
        ...f,
        kubeProxy: { ...f.kubeProxy, health: { ...f.kubeProxy.health, healthy: false, secondsSinceSync: 95 } },
      }),
      id: NODE_IDS.kubeProxyRules,
      status: 'fail',
      summary: /kube-proxy reports itself unhealthy \(last sync 95 s before its clock\)/,
    },
    {
      name: 'nat KUBE-SERVICES flushed while running',
      patch: (f) => ({ ...f, kubeProxy: { ...f.kubeProxy, servicesChain: false, programmed: [] } }),
      id: NODE_IDS.kubeProxyRules,
      status: 'fail',
      summary: /no Service rules \(nat KUBE-SERVICES is empty or missing\); 4 Service ports missing/,
    },
    {
      name: 'no kube-proxy at all while other nodes run it',
      patch: (f) => ({
        ...f,
        kubeProxy: { ...f.kubeProxy, running: false, mode: 'none', servicesChain: false, programmed: [] },
      }),
      id: NODE_IDS.kubeProxyRules,
      status: 'fail',
      summary: /not running here .* while other nodes run it/,
    },
    {
      name: 'no kube-proxy anywhere (a replacement)',
      patch: (f) => ({
        ...f,
        kubeProxy: { ...f.kubeProxy, running: false, mode: 'none', servicesChain: false, programmed: [] },
      }),
      overrides: { clusterUsesKubeProxy: false },
      id: NODE_IDS.kubeProxyRules,
      status: 'skip',
      summary: /replacement/,
    },
    {
      name: 'a stale rule of a deleted Service',
      patch: (f) => ({
        ...f,
        kubeProxy: { ...f.kubeProxy, programmed: [...f.kubeProxy.programmed, 'shop/gone:http'] },
      }),
      id: NODE_IDS.kubeProxyRules,
      status: 'fail',
      summary: /1 stale \(shop\/gone:http/,
    },
    {
      name: 'a Service created a moment ago is not required yet',
      patch: (f) => f,
      overrides: { services: [...LAB_SERVICES, { key: 'shop/new:http', clusterIPs: ['10.233.0.99'], settled: false }] },
      id: NODE_IDS.kubeProxyRules,
      status: 'pass',
      summary: /4 Service ports programmed/,
    },
    {
      name: 'kube-proxy chains in both iptables backends',
      patch: (f) => ({ ...f, iptables: { ...f.iptables, legacyRules: 12, kubeChainsIn: ['legacy', 'nft'] } }),
      id: NODE_IDS.iptablesBackend,
      status: 'fail',
      summary: /KUBE-\* chains in both iptables backends/,
    },
    {
      name: 'rules in both backends',
      patch: (f) => ({ ...f, iptables: { ...f.iptables, legacyRules: 3 } }),
      id: NODE_IDS.iptablesBackend,
      status: 'warn',
      summary: /mixed-backend trap/,
    },
    {
      name: 'ip_forward off',
      patch: (f) => ({ ...f, sysctls: { ...f.sysctls, 'net.ipv4.ip_forward': '0' } }),
      id: NODE_IDS.sysctl,
      status: 'fail',
      summary: /ip_forward = 0/,
    },
    {
      name: 'bridge-nf-call-iptables off with the bridge plugin',
      patch: (f) => ({ ...f, sysctls: { ...f.sysctls, 'net.bridge.bridge-nf-call-iptables': '0' } }),
      id: NODE_IDS.sysctl,
      status: 'fail',
      summary: /bridge-nf-call-iptables = 0 with a bridge CNI/,
    },
    {
      name: 'br_netfilter not loaded',
      patch: (f) => {
        const sysctls: Record<string, string> = { ...f.sysctls };
        delete sysctls['net.bridge.bridge-nf-call-iptables'];
        return { ...f, sysctls };
      },
      id: NODE_IDS.sysctl,
      status: 'warn',
      summary: /br_netfilter is not loaded/,
    },
    {
      name: 'ephemeral ports over the NodePort range',
      patch: (f) => ({ ...f, sysctls: { ...f.sysctls, 'net.ipv4.ip_local_port_range': '1024 65000' } }),
      id: NODE_IDS.sysctl,
      status: 'warn',
      summary: /overlaps the NodePort range/,
    },
    {
      name: 'conntrack table nearly full',
      patch: (f) => ({ ...f, conntrack: { ...f.conntrack, count: 250000 } }),
      id: NODE_IDS.conntrack,
      status: 'fail',
      summary: /nearly full: 250000 of 262144/,
    },
    {
      name: 'conntrack insert_failed',
      patch: (f) => ({ ...f, conntrack: { ...f.conntrack, stats: { ...f.conntrack.stats, insert_failed: 7 } } }),
      id: NODE_IDS.conntrack,
      status: 'warn',
      summary: /7 insert_failed/,
    },
    {
      name: 'CRC errors on the uplink',
      patch: (f) => ({
        ...f,
        counters: f.counters.map((c) =>
          c.name === 'eth0' ? { ...c, statistics: { ...c.statistics, rx_crc_errors: 12, rx_errors: 12 } } : c,
        ),
      }),
      id: NODE_IDS.interfaceErrors,
      status: 'fail',
      summary: /damaged frames on eth0 \(eth0: rx_errors 12, rx_crc_errors 12\)/,
    },
    {
      name: 'tx errors',
      patch: (f) => ({
        ...f,
        counters: f.counters.map((c) =>
          c.name === 'eth0' ? { ...c, statistics: { ...c.statistics, tx_errors: 3 } } : c,
        ),
      }),
      id: NODE_IDS.interfaceErrors,
      status: 'warn',
      summary: /eth0: tx_errors 3/,
    },
    {
      name: 'a tbf on the uplink (the lab’s rate fault)',
      patch: withUplinkTbf,
      id: NODE_IDS.interfaceRateLimit,
      status: 'warn',
      summary: /^eth0 \(the underlay\) is limited to 100\.0 Mbit\/s by a tbf qdisc: /,
    },
    {
      name: 'a tbf on a pod veth only (the CNI bandwidth plugin)',
      patch: (f) => ({
        ...f,
        qdiscs: f.qdiscs.map((q) => (q.device === 'veth1f812265' ? { ...q, kind: 'tbf', rateBitsPerSecond: 10e6 } : q)),
      }),
      id: NODE_IDS.interfaceRateLimit,
      status: 'pass',
      summary:
        /^eth0 \(the underlay\): noqueue, no rate limit; 1 other interface\(s\) limited: veth1f812265 10\.0 Mbit\/s$/,
    },
    {
      name: 'tc printed nothing',
      patch: (f) => ({ ...f, qdiscs: [] }),
      id: NODE_IDS.interfaceRateLimit,
      status: 'skip',
      summary: /no queueing disciplines were read/,
    },
    {
      name: 'uplink MTU lowered under the pods’ (the lab’s mtu fault)',
      patch: (f) => ({
        ...f,
        network: { ...f.network, underlay: { ...f.network.underlay!, mtu: 1400 }, maxPodMtu: 1400 },
      }),
      id: NODE_IDS.interfaceMtu,
      status: 'fail',
      summary: /pods get MTU 1500 \(pod veth interfaces\) but the path carries at most 1400/,
    },
    {
      name: 'a missing route to one node’s pods',
      patch: (f) => ({
        ...f,
        network: {
          ...f.network,
          podRoutes: f.network.podRoutes.map((r, i) => (i === 0 ? { ...r, kind: 'none' as const } : r)),
        },
      }),
      id: NODE_IDS.podRoutes,
      status: 'fail',
      summary: /no usable route to the pods of worker2\.kube\.local \(10\.233\.65\.0\/24\)/,
    },
    {
      name: 'one node’s pods only through the default route',
      patch: (f) => ({
        ...f,
        network: {
          ...f.network,
          podRoutes: f.network.podRoutes.map((r, i) => (i === 0 ? { ...r, kind: 'default' as const } : r)),
        },
      }),
      id: NODE_IDS.podRoutes,
      status: 'warn',
      summary: /worker2\.kube\.local only through the default route/,
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.id} ${c.status}`, () => {
      const found = check(with_(c.patch), c.overrides).get(c.id);
      assert.equal(found?.status, c.status, found?.summary);
      assert.match(found?.summary ?? '', c.summary);
      if (c.status === 'fail' || c.status === 'warn') assert.ok(found?.hint, 'a failure says what to do');
    });
  }
});

describe('the pod MTU is read from the pods’ veths, not from an uplink that is a veth too', () => {
  it('with the lab’s eth0 (a veth) lowered to 1400, pods still have 1500 and the check fails', () => {
    const inspected = new Map(worker1.inspected);
    const addr = JSON.parse(inspected.get('ip-addr')?.output ?? '[]') as { ifname: string; mtu: number }[];
    for (const entry of addr) if (entry.ifname === 'eth0') entry.mtu = 1400;
    inspected.set('ip-addr', { name: 'ip-addr', output: JSON.stringify(addr), status: 0 });
    const facts = nodeFacts({
      identity: labIdentity(1),
      peers: LAB_PEERS,
      discovered: discover(sections('discover-worker1.txt')),
      inspected,
    });
    assert.equal(facts.network.podMtu, 1500);
    assert.equal(facts.network.maxPodMtu, 1400);
    assert.equal(check(facts).get(NODE_IDS.interfaceMtu)?.status, 'fail');
  });
});

describe('kubeProxyCoverage', () => {
  it('compares Service ports, or ClusterIPs in ipvs mode', () => {
    const facts = with_((f) => ({
      ...f,
      kubeProxy: { ...f.kubeProxy, programmed: ['default/kubernetes:https', 'x/y'] },
    }));
    assert.deepEqual(kubeProxyCoverage(facts, LAB_SERVICES), {
      missing: ['kube-system/kube-dns:dns', 'kube-system/kube-dns:dns-tcp', 'kube-system/kube-dns:metrics'],
      stale: ['x/y'],
      expected: 4,
    });
    const ipvs = with_((f) => ({ ...f, kubeProxy: { ...f.kubeProxy, mode: 'ipvs', programmed: ['10.233.0.1'] } }));
    assert.deepEqual(kubeProxyCoverage(ipvs, LAB_SERVICES), { missing: ['10.233.0.10'], stale: [], expected: 2 });
  });
});

describe('the fleet view and the odd one out', () => {
  const named = (facts: NodeFacts, node: string): NodeFacts => ({ ...facts, node });
  const three = (third: NodeFacts): NodeFacts[] => [
    named(worker1.facts, 'a'),
    named(labFacts(2).facts, 'b'),
    named(third, 'c'),
  ];
  it('the lab’s nodes agree', () => {
    const fleet = three(worker1.facts);
    const rows = fleetRows(fleet);
    assert.ok(rows.every((row) => row.odd.length === 0));
    assert.equal(rows.find((row) => row.fact === 'runtime')?.values['b'], 'containerd 1.6.20');
    assert.deepEqual(
      oddOneOutFindings(fleet, rows).map((f) => [f.subject, f.status]),
      [['cluster', 'pass']],
    );
    assert.equal(clusterUsesKubeProxy(fleet), true);
  });
  const oddCases: { name: string; patch: Patch; fact: string; value: string }[] = [
    {
      name: 'a lower uplink MTU',
      patch: (f) => ({ ...f, network: { ...f.network, underlay: { ...f.network.underlay!, mtu: 1400 } } }),
      fact: 'underlay MTU',
      value: '1400',
    },
    {
      name: 'an extra CNI config file',
      patch: (f) => ({
        ...f,
        cni: { ...f.cni, files: [...f.cni.files, { ...f.cni.files[0]!, name: '99-x.conflist' }] },
      }),
      fact: 'CNI config',
      value: '10-netdiag-lab.conflist, 99-x.conflist',
    },
    {
      name: 'another kube-proxy mode',
      patch: (f) => ({ ...f, kubeProxy: { ...f.kubeProxy, mode: 'ipvs' } }),
      fact: 'kube-proxy mode',
      value: 'ipvs',
    },
    {
      name: 'another iptables backend',
      patch: (f) => ({ ...f, iptables: { ...f.iptables, backend: 'legacy' } }),
      fact: 'iptables backend',
      value: 'legacy',
    },
    {
      name: 'a rate limit on the uplink',
      patch: withUplinkTbf,
      fact: 'underlay rate limit',
      value: '100.0 Mbit/s (tbf)',
    },
    {
      name: 'a loose rp_filter',
      patch: (f) => ({ ...f, sysctls: { ...f.sysctls, 'net.ipv4.conf.all.rp_filter': '2' } }),
      fact: 'rp_filter (all)',
      value: '2',
    },
  ];
  for (const c of oddCases) {
    it(`${c.name} makes its node the odd one out`, () => {
      const fleet = three(with_(c.patch));
      const rows = fleetRows(fleet);
      const row = rows.find((r) => r.fact === c.fact);
      assert.deepEqual(row?.odd, ['c']);
      const findings = oddOneOutFindings(fleet, rows);
      assert.deepEqual(
        findings.map((f) => [f.id, f.subject, f.status]),
        [[NODE_IDS.oddOneOut, 'node/c', 'warn']],
      );
      assert.equal(findings[0]?.metrics?.[c.fact], c.value);
      assert.match(findings[0]?.summary ?? '', new RegExp(`${c.fact.replace(/[()]/g, '\\$&')} `));
    });
  }
  it('a difference only shown (the container count) makes no odd one out', () => {
    const fleet = three(with_((f) => ({ ...f, runtime: { ...f.runtime, containers: undefined } })));
    assert.deepEqual(
      oddOneOutFindings(fleet, fleetRows(fleet)).map((f) => f.subject),
      ['cluster'],
    );
  });
  it('needs three nodes and a strict majority', () => {
    const two = [
      named(worker1.facts, 'a'),
      named(
        with_((f) => ({ ...f, kubeProxy: { ...f.kubeProxy, mode: 'ipvs' } })),
        'b',
      ),
    ];
    assert.deepEqual(
      oddOneOutFindings(two, fleetRows(two)).map((f) => [f.subject, f.status]),
      [['cluster', 'skip']],
    );
    const split = [
      ...three(worker1.facts),
      named(
        with_((f) => ({ ...f, kubeProxy: { ...f.kubeProxy, mode: 'ipvs' } })),
        'd',
      ),
      named(
        with_((f) => ({ ...f, kubeProxy: { ...f.kubeProxy, mode: 'nftables' } })),
        'e',
      ),
      named(
        with_((f) => ({ ...f, kubeProxy: { ...f.kubeProxy, mode: 'nftables' } })),
        'f',
      ),
    ];
    assert.equal(
      fleetRows(split).find((r) => r.fact === 'kube-proxy mode')?.majority,
      undefined,
      '3 of 6 is no majority',
    );
  });
});
