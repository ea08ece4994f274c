import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Finding, type MetricValue, type Status } from '../../../src/findings/model.js';
import { finding } from './finding.js';
import { correlate, localise } from '../../../src/doctor/rules.js';

const W1 = 'worker1.kube.local';
const W2 = 'worker2.kube.local';
const W3 = 'worker3.kube.local';
const NODES = [W1, W2, W3];
const node = (name: string) => `node/${name}`;
const pair = (from: string, to: string) => `${from}→${to}`;

const f = finding;

/** A finding on every node, `status` on `bad` and pass elsewhere. */
const perNode = (id: string, bad: readonly string[], status: Status = 'fail', metrics?: Record<string, MetricValue>) =>
  NODES.map((n) => f(id, node(n), bad.includes(n) ? status : 'pass', bad.includes(n) ? metrics : undefined));

/** A finding for every ordered pair of distinct nodes, `status` where `bad(from, to)`. */
const perPair = (
  id: string,
  bad: (from: string, to: string) => boolean,
  status: Status = 'fail',
  metrics?: Record<string, MetricValue>,
) =>
  NODES.flatMap((from) =>
    NODES.filter((to) => to !== from).map((to) =>
      f(id, pair(from, to), bad(from, to) ? status : 'pass', bad(from, to) ? metrics : undefined),
    ),
  );

const touches = (n: string) => (from: string, to: string) => from === n || to === n;
const between = (a: string, b: string) => (from: string, to: string) =>
  (from === a && to === b) || (from === b && to === a);
const healthy = [
  ...perNode('dns.lookup.cluster', []),
  ...perNode('dns.hop.nodelocal', []),
  ...perNode('dns.hop.clusterip', []),
  ...perNode('check.l4.clusterip', []),
  ...perNode('check.external.tcp', []),
  ...perPair('check.l3.pod-pod', () => false),
  ...perPair('check.l4.podip', () => false),
  f('dns.cluster.coredns', 'cluster', 'pass'),
];

interface Case {
  name: string;
  findings: Finding[];
  diagnoses: { id: string; subject: string; severity: string }[];
  unexplained?: string[];
}

const cases: Case[] = [
  { name: 'healthy: nothing to diagnose', findings: healthy, diagnoses: [] },
  {
    name: "one node's DNS and ClusterIPs fail, pod IPs work: kube-proxy there, not DNS",
    findings: [
      ...healthy.filter((x) => !x.subject.includes(W3) || x.id.startsWith('check.l')),
      f('dns.lookup.cluster', node(W3), 'fail'),
      f('dns.hop.nodelocal', node(W3), 'fail'),
      f('dns.hop.clusterip', node(W3), 'fail'),
      f('dns.cause.kube-proxy', node(W3), 'fail'),
      ...perPair('check.l4.nodeport', (_from, to) => to === W3, 'fail', { reason: 'timeout' }),
      f('check.external.tcp', node(W3), 'fail', { reason: 'unresolved' }),
      f('check.l4.clusterip', node(W3), 'fail', { reason: 'timeout' }),
    ].filter((x, i, all) => all.findIndex((y) => y.id === x.id && y.subject === x.subject) === i),
    diagnoses: [{ id: 'doctor.kube-proxy', subject: node(W3), severity: 'error' }],
  },
  {
    name: 'NodePort probes to one node fail, everything else works: kube-proxy on the receiving node',
    findings: [...healthy, ...perPair('check.l4.nodeport', (_from, to) => to === W2, 'fail', { reason: 'refused' })],
    diagnoses: [{ id: 'doctor.kube-proxy', subject: node(W2), severity: 'error' }],
  },
  {
    name: 'node-local cache down on one node, kube-dns answers there',
    findings: [
      ...perNode('dns.hop.nodelocal', [W2]),
      ...perNode('dns.hop.clusterip', []),
      ...perNode('dns.lookup.cluster', [W2]),
      f('dns.cause.nodelocal', node(W2), 'fail'),
      ...perNode('check.l4.name', [W2], 'fail', { reason: 'unresolved' }),
      ...perNode('check.l4.clusterip', []),
    ],
    diagnoses: [{ id: 'doctor.nodelocaldns', subject: node(W2), severity: 'error' }],
  },
  {
    name: 'CoreDNS down: one cluster diagnosis explains every node',
    findings: [
      f('dns.cluster.coredns', 'cluster', 'fail'),
      f('dns.cause.coredns', 'cluster', 'fail'),
      ...perNode('dns.cause.coredns', NODES),
      ...perNode('dns.lookup.cluster', NODES),
      ...perNode('dns.hop.clusterip', NODES),
      ...perNode('dns.hop.nodelocal', NODES),
      ...perNode('check.external.http', NODES, 'fail', { reason: 'unresolved' }),
      ...perNode('check.l4.clusterip', []),
    ],
    diagnoses: [{ id: 'doctor.coredns', subject: 'cluster', severity: 'error' }],
  },
  {
    name: 'CoreDNS slow: a warning',
    findings: [...healthy, ...perNode('dns.cause.slow', NODES, 'warn', { slow: 'coredns' })],
    diagnoses: [{ id: 'doctor.coredns', subject: 'cluster', severity: 'warning' }],
  },
  {
    name: 'upstream down: external names fail everywhere, the outside is reachable by address',
    findings: [
      ...healthy,
      f('dns.cause.upstream', 'cluster', 'fail'),
      ...perNode('dns.cause.upstream', NODES),
      ...perNode('dns.lookup.external', NODES),
      ...perNode('check.external.http', NODES, 'fail', { reason: 'unresolved' }),
      ...perNode('check.external.ping', []),
    ],
    diagnoses: [{ id: 'doctor.upstream-dns', subject: 'cluster', severity: 'error' }],
  },
  {
    name: 'upstream down behind caches: names time out from some nodes while the address answers: upstream, not egress',
    findings: [
      ...healthy.filter((x) => x.id !== 'check.external.tcp'),
      ...perNode('dns.hop.upstream', NODES, 'warn'),
      ...perNode('check.external.tcp', [W1, W3], 'fail', { reason: 'timeout', target: 'www.netdiag.test:80' }),
      ...NODES.map((n) => f('check.external.ping', node(n), 'pass', { target: '172.30.78.80' })),
    ],
    diagnoses: [{ id: 'doctor.upstream-dns', subject: 'cluster', severity: 'error' }],
  },
  {
    name: 'egress blocked on one node: egress there, its failed external lookups with it, not upstream',
    findings: [
      ...healthy.filter((x) => x.id !== 'check.external.tcp'),
      ...perNode('check.external.tcp', [W1], 'fail', { reason: 'timeout' }),
      ...perNode('check.external.ping', [W1], 'fail', { reason: 'timeout' }),
      ...perNode('dns.lookup.external', [W1]),
      f('dns.cause.upstream', node(W1), 'fail'),
    ],
    diagnoses: [{ id: 'doctor.egress', subject: node(W1), severity: 'error' }],
  },
  {
    name: 'egress blocked everywhere while the cluster works: the cluster egress',
    findings: [
      ...healthy.filter((x) => x.id !== 'check.external.tcp'),
      ...perNode('check.external.tcp', NODES, 'fail', { reason: 'timeout' }),
    ],
    diagnoses: [{ id: 'doctor.egress', subject: 'cluster', severity: 'error' }],
  },
  {
    name: 'pod network split between two nodes: the path, and the Service/DNS failures over it, not kube-proxy',
    findings: [
      ...healthy.filter((x) => !(x.id.startsWith('check.l') && (x.subject.includes(W1) || x.subject.includes(W2)))),
      ...perPair('check.l3.pod-pod', between(W1, W2)),
      ...perPair('check.l4.podip', between(W1, W2), 'fail', { reason: 'timeout' }),
      ...perNode('check.l4.clusterip', [W1, W2], 'fail', { reason: 'timeout' }),
      ...perPair('check.l4.nodeport', between(W1, W2), 'fail', { reason: 'timeout' }),
      f('dns.cause.podnet', node(W1), 'fail'),
    ].filter((x, i, all) => all.findIndex((y) => y.id === x.id && y.subject === x.subject) === i),
    diagnoses: [{ id: 'doctor.podnet-path', subject: pair(W1, W2), severity: 'error' }],
  },
  {
    name: 'one node cut off from all others: its pod network',
    findings: [...healthy.filter((x) => x.id !== 'check.l3.pod-pod'), ...perPair('check.l3.pod-pod', touches(W2))],
    diagnoses: [{ id: 'doctor.podnet-path', subject: node(W2), severity: 'error' }],
  },
  {
    name: 'DF ping fails at full size to and from one node: MTU there; the odd MTU is the same cause',
    findings: [
      ...healthy,
      ...perPair('check.mtu', touches(W2)),
      ...perNode('node.interface.mtu', [W2], 'warn', { mtu: 1400 }),
      ...perNode('node.odd-one-out', [W2], 'warn', { fact: 'interface.mtu' }),
    ],
    diagnoses: [{ id: 'doctor.mtu', subject: node(W2), severity: 'error' }],
  },
  {
    name: 'loss with moving DROP counters on one node: a firewall there',
    findings: [...healthy, ...perPair('bw.pair.retransmits', touches(W3), 'warn', { cause: 'firewall' })],
    diagnoses: [{ id: 'doctor.firewall', subject: node(W3), severity: 'warning' }],
  },
  {
    name: 'the counters name the node even for a single path',
    findings: [
      ...healthy,
      ...perPair('bw.pair.outlier', between(W1, W3), 'fail', { cause: 'firewall', causeNode: W3 }),
    ],
    diagnoses: [{ id: 'doctor.firewall', subject: node(W3), severity: 'error' }],
  },
  {
    name: 'a path whose bandwidth test a rule dropped: one firewall diagnosis that its failing pod probes support',
    findings: [
      ...healthy.filter((x) => !['check.l3.pod-pod', 'check.l4.podip'].includes(x.id)),
      ...perPair('check.l3.pod-pod', between(W1, W3), 'fail', { reason: 'timeout' }),
      ...perPair('check.l4.podip', between(W1, W3), 'fail', { reason: 'timeout' }),
      ...perPair('bw.pair', between(W1, W3), 'fail', { cause: 'firewall' }),
    ],
    diagnoses: [{ id: 'doctor.firewall', subject: pair(W1, W3), severity: 'error' }],
  },
  {
    name: 'TCP to one node’s pods fails while ping to them passes: a firewall there, not the pod network',
    findings: [
      ...healthy.filter((x) => x.id !== 'check.l4.podip'),
      ...perPair('check.l4.podip', (_from, to) => to === W2, 'fail', { reason: 'timeout' }),
    ],
    diagnoses: [{ id: 'doctor.firewall', subject: node(W2), severity: 'error' }],
  },
  {
    name: 'loss with moving NIC error counters: hardware',
    findings: [
      ...healthy,
      ...perNode('node.interface.errors', [W2], 'fail'),
      ...perPair('bw.pair.retransmits', touches(W2), 'warn', { cause: 'nic-errors' }),
    ],
    diagnoses: [{ id: 'doctor.nic-hardware', subject: node(W2), severity: 'error' }],
  },
  {
    name: 'one slow node with no other cause: bandwidth outlier',
    findings: [...healthy, ...perPair('bw.pair.outlier', touches(W2), 'fail', { cause: 'none' })],
    diagnoses: [{ id: 'doctor.bandwidth-outlier', subject: node(W2), severity: 'error' }],
  },
  {
    name: "a qdisc caps one node's links: traffic shaping on the node the shaper is on, with its node findings",
    findings: [
      ...healthy,
      ...perNode('node.interface.rate-limit', [W2], 'warn', { device: 'eth0', rateBitsPerSecond: 100e6, kind: 'tbf' }),
      ...perNode('node.odd-one-out', [W2], 'warn', { 'underlay rate limit': '100.0 Mbit/s (tbf)' }).map((x) =>
        x.status === 'warn'
          ? { ...x, summary: 'differs from the other nodes: underlay rate limit 100.0 Mbit/s (tbf) (others none)' }
          : x,
      ),
      ...perPair('bw.pair.outlier', touches(W2), 'fail', { cause: 'shaper', causeNode: W2 }),
    ],
    diagnoses: [{ id: 'doctor.traffic-shaping', subject: node(W2), severity: 'error' }],
  },
  {
    name: 'a shaper on the sender of one slow path: the node it is on, not the path',
    findings: [
      ...healthy,
      ...perPair('bw.pair.outlier', (from, to) => from === W1 && to === W3, 'fail', { cause: 'shaper', causeNode: W1 }),
    ],
    diagnoses: [{ id: 'doctor.traffic-shaping', subject: node(W1), severity: 'error' }],
  },
  {
    name: 'a rate limit node reports alone (doctor --quick runs no bw): a warning on that node',
    findings: [...healthy, ...perNode('node.interface.rate-limit', [W3], 'warn')],
    diagnoses: [{ id: 'doctor.traffic-shaping', subject: node(W3), severity: 'warning' }],
  },
  {
    name: 'one slow path: the path',
    findings: [...healthy, ...perPair('bw.pair.outlier', between(W1, W3), 'warn', { cause: 'none' })],
    diagnoses: [{ id: 'doctor.bandwidth-outlier', subject: pair(W1, W3), severity: 'warning' }],
  },
  {
    name: 'a node unlike the fleet: named',
    findings: [...healthy, ...perNode('node.odd-one-out', [W3], 'warn', { fact: 'kube-proxy.mode' })],
    diagnoses: [{ id: 'doctor.odd-node', subject: node(W3), severity: 'warning' }],
  },
  {
    name: 'the test Service got no endpoints: the control plane, not kube-proxy on every node',
    findings: [
      ...healthy.filter((x) => x.id !== 'check.l4.clusterip'),
      f('check.service.endpoints', 'cluster', 'fail', { ready: 0, expected: 3, waitedMs: 20_200 }),
      f('check.kubernetes-service', node(W1), 'pass'),
    ],
    diagnoses: [{ id: 'doctor.service-endpoints', subject: 'cluster', severity: 'error' }],
  },
  {
    name: 'a node saying its kube-proxy is down while its Services answer is listed, not diagnosed',
    findings: [...healthy, f('node.kube-proxy.rules', node(W2), 'fail')],
    diagnoses: [],
    unexplained: ['node.kube-proxy.rules node/worker2.kube.local'],
  },
  {
    name: "with failing Service probes it supports kube-proxy's diagnosis",
    findings: [
      ...healthy.filter((x) => !(x.id === 'check.l4.clusterip' && x.subject === node(W2))),
      f('node.kube-proxy.rules', node(W2), 'fail'),
      f('check.l4.clusterip', node(W2), 'fail', { reason: 'timeout' }),
    ],
    diagnoses: [{ id: 'doctor.kube-proxy', subject: node(W2), severity: 'error' }],
  },
  {
    name: 'findings no rule explains stay listed',
    findings: [...healthy, f('node.conntrack', node(W1), 'warn'), f('dns.resolvconf', node(W2), 'fail')],
    diagnoses: [],
    unexplained: ['node.conntrack node/worker1.kube.local', 'dns.resolvconf node/worker2.kube.local'],
  },
  {
    name: 'two faults at once: both named, errors first',
    findings: [
      ...healthy,
      ...perNode('node.odd-one-out', [W1], 'warn', { fact: 'sysctl' }),
      f('dns.cluster.coredns', 'cluster', 'fail'),
      f('dns.cause.coredns', 'cluster', 'fail'),
    ],
    diagnoses: [
      { id: 'doctor.coredns', subject: 'cluster', severity: 'error' },
      { id: 'doctor.odd-node', subject: node(W1), severity: 'warning' },
    ],
  },
];

describe('correlate', () => {
  for (const { name, findings, diagnoses, unexplained = [] } of cases)
    it(name, () => {
      const result = correlate(findings);
      assert.deepEqual(
        result.diagnoses.map(({ id, subject, severity }) => ({ id, subject, severity })),
        diagnoses,
      );
      assert.deepEqual(
        result.unexplained.map((x) => `${x.id} ${x.subject}`),
        unexplained,
      );
    });

  it("an odd node's cause names the node once and the finding's difference as it is", () => {
    const odd = {
      ...f('node.odd-one-out', node(W3), 'warn'),
      summary: 'differs from the other nodes: kube-proxy mode none (others iptables)',
    };
    const [diagnosis] = correlate([...healthy, odd]).diagnoses;
    assert.equal(
      diagnosis?.cause,
      'worker3.kube.local: differs from the other nodes: kube-proxy mode none (others iptables)',
    );
  });
  it("the control plane's endpoints: how many of the echo pods, in how long, and who publishes them", () => {
    const [diagnosis] = correlate([
      f('check.service.endpoints', 'cluster', 'fail', { ready: 0, expected: 3, waitedMs: 20_200 }),
    ]).diagnoses;
    assert.match(
      diagnosis?.cause ?? '',
      /^the control plane does not publish the pods behind new Services: 0 of 3 echo pods became endpoints of the test Service in 20 s — the EndpointSlice controller \(kube-controller-manager\)/,
    );
  });
  it('a diagnosis lists the findings it rests on, its nodes and pairs, and the next command', () => {
    const [diagnosis] = correlate([...healthy, ...perPair('check.l3.pod-pod', between(W1, W2))]).diagnoses;
    assert.deepEqual(diagnosis?.supporting, [
      { id: 'check.l3.pod-pod', subject: pair(W1, W2) },
      { id: 'check.l3.pod-pod', subject: pair(W2, W1) },
    ]);
    assert.deepEqual(diagnosis?.nodes, [W1, W2]);
    assert.deepEqual(diagnosis?.pairs, [pair(W1, W2), pair(W2, W1)]);
    assert.match(
      diagnosis?.next ?? '',
      /^kubectl netdiag doctor .*--capture-failures --nodes worker1.kube.local,worker2/,
    );
  });
});

describe('localise', () => {
  const subjects = (findings: Finding[]) => localise(findings).map((group) => group.subject);
  it('one path stays a path, named by its ends in order', () =>
    assert.deepEqual(subjects([f('x', pair(W2, W1), 'fail')]), [pair(W1, W2)]));
  it('a node in two paths is their common end', () =>
    assert.deepEqual(subjects([f('x', pair(W1, W2), 'fail'), f('x', pair(W3, W2), 'fail')]), [node(W2)]));
  it('a node finding pulls in the paths touching it', () =>
    assert.deepEqual(subjects([f('x', pair(W1, W2), 'fail'), f('y', node(W1), 'warn')]), [node(W1)]));
  it('disjoint paths stay apart', () => {
    const W4 = 'worker4.kube.local';
    assert.deepEqual(subjects([f('x', pair(W1, W2), 'fail'), f('x', pair(W3, W4), 'fail')]), [
      pair(W1, W2),
      pair(W3, W4),
    ]);
  });
  it('a same-node or cluster finding is about the cluster', () =>
    assert.deepEqual(subjects([f('x', 'cluster', 'fail')]), ['cluster']));
});

describe('doctor.traffic-shaping names what is limited', () => {
  it('the device, rate and qdisc the node finding read; without one, the qdisc in general', () => {
    const withNode = correlate([
      ...perNode('node.interface.rate-limit', [W2], 'warn', { device: 'eth0', rateBitsPerSecond: 100e6, kind: 'tbf' }),
      ...perPair('bw.pair.outlier', touches(W2), 'fail', { cause: 'shaper', causeNode: W2 }),
    ]);
    assert.equal(
      withNode.diagnoses[0]?.cause,
      `${W2}: eth0 is limited to 100.0 Mbit/s by a tbf qdisc — the links through it measure that limit: a configuration, not a fault of the network`,
    );
    assert.equal(withNode.diagnoses[0]?.supporting.length, 5);
    const bwOnly = correlate(perPair('bw.pair.outlier', touches(W2), 'fail', { cause: 'shaper', causeNode: W2 }));
    assert.match(bwOnly.diagnoses[0]?.cause ?? '', /: a qdisc limits the rate of an interface there \(tc\) — /);
  });
});
