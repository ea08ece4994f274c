import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { causeFindings, clusterFindings, hopLatencies, nodeFindings, percentiles } from '../../../src/dns/checks.js';
import type { NodeFacts } from '../../../src/dns/facts.js';
import { DnsIds } from '../../../src/dns/ids.js';
import type { Finding } from '../../../src/findings/model.js';
import { clusterFacts, COREDNS, lookup, nodeFacts, NODES, type NodeShape } from './builders.js';

const context = { cluster: clusterFacts(), namespace: 'default' };
const statusOf = (findings: readonly Finding[], id: string, subject: string) =>
  findings.find((f) => f.id === id && f.subject === subject)?.status;
const ids = (findings: readonly Finding[], status: string) =>
  findings
    .filter((f) => f.status === status)
    .map((f) => `${f.id} ${f.subject}`)
    .sort();

function lab(shapes: Partial<Record<string, NodeShape>> = {}): NodeFacts[] {
  return NODES.map((node) => nodeFacts(node, shapes[node] ?? {}));
}

describe('percentiles', () => {
  const cases: [number[], { median: number; p95: number } | undefined][] = [
    [[], undefined],
    [[7], { median: 7, p95: 7 }],
    [[1, 3], { median: 2, p95: 3 }],
    [[5, 1, 2, 4, 3], { median: 3, p95: 5 }],
    [[...Array(19).fill(1), 100], { median: 1, p95: 1 }],
    [[...Array(18).fill(1), 100, 100], { median: 1, p95: 100 }],
  ];
  for (const [values, expected] of cases)
    it(`${JSON.stringify(values)} → ${JSON.stringify(expected)}`, () =>
      assert.deepEqual(percentiles(values), expected));
});

describe('node findings on a healthy node', () => {
  const findings = nodeFindings(nodeFacts(NODES[0] as string), context);
  it('passes everything, no warnings', () => assert.deepEqual(ids(findings, 'fail').concat(ids(findings, 'warn')), []));
  it('reports the nameserver as the node-local cache', () => {
    const conf = findings.find((f) => f.id === DnsIds.resolvConf);
    assert.equal(conf?.metrics?.nameserver, '169.254.25.10');
    assert.match(conf?.summary ?? '', /169\.254\.25\.10 \(the node-local cache\)/);
  });
  it('has one finding per hop', () =>
    assert.deepEqual(
      findings.filter((f) => f.id.startsWith('dns.hop.')).map((f) => f.id),
      [DnsIds.hopNodeLocal, DnsIds.hopClusterIp, DnsIds.hopCorednsPod, DnsIds.hopUpstream],
    ));
});

describe('resolv.conf', () => {
  const withConf = (change: Partial<NonNullable<NodeFacts['resolvConf']>>) => {
    const facts = nodeFacts(NODES[0] as string);
    return nodeFindings({ ...facts, resolvConf: { ...facts.resolvConf!, ...change } }, context).find(
      (f) => f.id === DnsIds.resolvConf,
    );
  };
  const cases: [string, Partial<NonNullable<NodeFacts['resolvConf']>>, string, RegExp][] = [
    ['kube-dns directly', { nameservers: ['10.233.0.10'] }, 'pass', /kube-dns/],
    ['an unknown nameserver', { nameservers: ['8.8.8.8'] }, 'fail', /neither kube-dns/],
    ['no nameserver', { nameservers: [] }, 'fail', /no nameserver/],
    [
      'another namespace first',
      { search: ['other.svc.cluster.local'] },
      'fail',
      /expected default\.svc\.cluster\.local/,
    ],
    [
      'four nameservers',
      { nameservers: ['169.254.25.10', '1.1.1.1', '2.2.2.2', '3.3.3.3'] },
      'warn',
      /only the first 3/,
    ],
    [
      'seven search domains',
      { search: ['default.svc.cluster.local', 'a', 'b', 'c', 'd', 'e', 'f'] },
      'warn',
      /7 search domains/,
    ],
  ];
  for (const [title, change, status, summary] of cases)
    it(`${title} → ${status}`, () => {
      const found = withConf(change);
      assert.equal(found?.status, status, found?.summary);
      assert.match(found?.summary ?? '', summary);
    });
});

describe('lookups through the pod resolver', () => {
  it('an unresolvable DEFAULT external name is a skip (air-gapped), with a hint', () => {
    const facts = nodeFacts(NODES[0] as string);
    const lookups = facts.lookups.map((l) =>
      l.kind === 'external' ? lookup('kubernetes.io', 'external', false, { isDefault: true }) : l,
    );
    const found = nodeFindings({ ...facts, lookups }, context).find((f) => f.id === DnsIds.lookupExternal);
    assert.equal(found?.status, 'skip');
    assert.match(found?.hint ?? '', /--external/);
  });
  it('an unresolvable REQUESTED external name fails', () => {
    const found = nodeFindings(nodeFacts(NODES[0] as string, { externalNames: false }), context).find(
      (f) => f.id === DnsIds.lookupExternal,
    );
    assert.equal(found?.status, 'fail');
    assert.match(found?.summary ?? '', /www\.netdiag\.test: not found/);
  });
  it('no external name at all (--no-external) is a skip', () => {
    const facts = nodeFacts(NODES[0] as string);
    const found = nodeFindings({ ...facts, lookups: facts.lookups.filter((l) => l.kind !== 'external') }, context).find(
      (f) => f.id === DnsIds.lookupExternal,
    );
    assert.equal(found?.status, 'skip');
  });
  it('a wrong address for kubernetes.default fails and says what came back', () => {
    const facts = nodeFacts(NODES[0] as string);
    const lookups = facts.lookups.map((l) =>
      l.name === 'kubernetes.default'
        ? lookup('kubernetes.default', 'cluster', true, { expected: ['10.233.0.1'], address: '10.96.0.1' })
        : l,
    );
    const found = nodeFindings({ ...facts, lookups }, context).find((f) => f.id === DnsIds.lookupCluster);
    assert.equal(found?.status, 'fail');
    assert.match(found?.summary ?? '', /got 10\.96\.0\.1, expected 10\.233\.0\.1/);
  });
  const podCases: [string, 'disabled' | 'insecure', string][] = [
    ['pods disabled → warn naming the Corefile', 'disabled', 'warn'],
    ['pods insecure and still failing → fail', 'insecure', 'fail'],
  ];
  for (const [title, podsMode, status] of podCases)
    it(title, () => {
      const cluster = clusterFacts({ corefile: { ...clusterFacts().corefile!, podsMode } });
      const found = nodeFindings(nodeFacts(NODES[0] as string, { podName: false }), {
        cluster,
        namespace: 'default',
      }).find((f) => f.id === DnsIds.lookupPod);
      assert.equal(found?.status, status);
      if (podsMode === 'disabled') assert.match(found?.summary ?? '', /pods insecure\|verified/);
    });
});

describe('hops and latency', () => {
  it('one CoreDNS pod of two not answering is a warning, both a failure', () => {
    const one = nodeFindings(nodeFacts(NODES[0] as string, { corednsPods: ['timeout', { ms: 1 }] }), context);
    const both = nodeFindings(nodeFacts(NODES[0] as string, { corednsPods: 'timeout' }), context);
    assert.equal(statusOf(one, DnsIds.hopCorednsPod, 'node/worker1.kube.local'), 'warn');
    assert.equal(statusOf(both, DnsIds.hopCorednsPod, 'node/worker1.kube.local'), 'fail');
    assert.match(
      one.find((f) => f.id === DnsIds.hopCorednsPod)?.summary ?? '',
      /coredns-6d4b-abcde 10\.233\.64\.3: 6\/6 failed \(UDP timed out, TCP timed out\)/,
    );
  });
  it('latency rows per resolver and protocol, unanswered counted', () => {
    const rows = hopLatencies(nodeFacts(NODES[0] as string, { clusterip: 'timeout' }).hops);
    const clusterIp = rows.filter((row) => row.role === 'clusterip');
    assert.deepEqual(
      clusterIp.map((row) => [row.protocol, row.queries, row.unanswered, row.medianMs]),
      [
        ['udp', 3, 3, undefined],
        ['tcp', 3, 3, undefined],
      ],
    );
  });
  it('upstream down: the cache, the ClusterIP and CoreDNS pass for cluster names, the upstream hop fails', () => {
    const findings = nodeFindings(
      nodeFacts(NODES[0] as string, { external: 'timeout', upstream: 'timeout', externalNames: false }),
      context,
    );
    assert.deepEqual(
      [DnsIds.hopNodeLocal, DnsIds.hopClusterIp, DnsIds.hopCorednsPod, DnsIds.hopUpstream].map((id) =>
        statusOf(findings, id, 'node/worker1.kube.local'),
      ),
      ['pass', 'pass', 'pass', 'fail'],
    );
  });
  it('the default external name resolving nowhere leaves the upstream hop unchecked (skip)', () => {
    const facts = nodeFacts(NODES[0] as string, { external: 'NXDOMAIN', upstream: 'NXDOMAIN' });
    const lookups = facts.lookups.map((l) =>
      l.kind === 'external' ? lookup('kubernetes.io', 'external', false, { isDefault: true }) : l,
    );
    assert.equal(
      statusOf(nodeFindings({ ...facts, lookups }, context), DnsIds.hopUpstream, 'node/worker1.kube.local'),
      'skip',
    );
  });
  it('pods not reaching the upstream directly while CoreDNS does: a warning', () => {
    const findings = nodeFindings(nodeFacts(NODES[0] as string, { upstream: 'timeout' }), context);
    assert.equal(statusOf(findings, DnsIds.hopUpstream, 'node/worker1.kube.local'), 'warn');
  });
  it('slow CoreDNS → latency warning naming the CoreDNS pods and the ClusterIP', () => {
    const found = nodeFindings(
      nodeFacts(NODES[0] as string, { clusterip: { ms: 1500 }, corednsPods: { ms: 1500 } }),
      context,
    ).find((f) => f.id === DnsIds.latency);
    assert.equal(found?.status, 'warn');
    assert.equal(found?.metrics?.slow, 'kube-dns ClusterIP,CoreDNS pods');
  });
  it('≈5 s lookups in a row → the conntrack race, hint names nodelocaldns and single-request-reopen', () => {
    const found = nodeFindings(nodeFacts(NODES[0] as string, { repeatedMs: [10, 5010, 10, 5020, 10] }), context).find(
      (f) => f.id === DnsIds.conntrackRace,
    );
    assert.equal(found?.status, 'warn');
    assert.equal(found?.metrics?.outliers, 2);
    assert.match(found?.hint ?? '', /node-local DNS cache.*single-request-reopen/);
  });
  it('a lookup the probe killed at its deadline says so, not its exit status', () => {
    const facts = nodeFacts(NODES[0] as string, { clusterNames: false });
    const killed = facts.lookups.map((lookup) => ({ ...lookup, exitCode: 143, ms: 12_010 }));
    const found = nodeFindings({ ...facts, lookups: killed }, context).find((f) => f.id === DnsIds.lookupCluster);
    assert.match(found?.summary ?? '', /kubernetes\.default: no answer within 12 s/);
    const external = nodeFindings(
      nodeFacts(NODES[0] as string, { clusterNames: false, externalNames: false, defaultExternal: true }),
      context,
    ).find((f) => f.id === DnsIds.lookupExternal);
    assert.equal(external?.status, 'skip');
    assert.match(external?.summary ?? '', /, nor do cluster names on this node: see dns\.lookup\.cluster/);
    const pod = nodeFindings(nodeFacts(NODES[0] as string, { clusterNames: false }), context).find(
      (f) => f.id === DnsIds.lookupPod,
    );
    assert.match(pod?.hint ?? '', /cluster names fail on this node too/);
  });
  it('lookups that fail after the C library timeouts are a broken path, not the conntrack race', () => {
    const found = nodeFindings(
      nodeFacts(NODES[0] as string, { clusterNames: false, repeatedMs: [12_000] }),
      context,
    ).find((f) => f.id === DnsIds.conntrackRace);
    assert.equal(found?.status, 'skip');
    assert.match(found?.summary ?? '', /does not resolve.*dns\.lookup\.cluster/);
  });
});

describe('symptom → cause (the lab faults)', () => {
  const cluster = clusterFacts();
  const cases: {
    title: string;
    shapes: Partial<Record<string, NodeShape>>;
    cluster?: ReturnType<typeof clusterFacts>;
    fails: string[];
    warns?: string[];
  }[] = [
    { title: 'healthy: no cause', shapes: {}, fails: [] },
    {
      title: 'nodelocaldns down on worker2 → the cache on worker2',
      shapes: { 'worker2.kube.local': { nodelocal: 'refused', clusterNames: false } },
      fails: ['dns.cause.nodelocal node/worker2.kube.local'],
    },
    {
      title: 'kube-proxy broken on worker3 → kube-proxy on worker3 (the cache fails too: it forwards to the ClusterIP)',
      shapes: { 'worker3.kube.local': { clusterip: 'timeout', nodelocal: 'SERVFAIL', clusterNames: false } },
      fails: ['dns.cause.kube-proxy node/worker3.kube.local'],
    },
    {
      title: 'CoreDNS down → CoreDNS, for the cluster and every node',
      shapes: Object.fromEntries(
        NODES.map((node) => [
          node,
          { nodelocal: 'SERVFAIL', clusterip: 'refused', corednsPods: 'timeout', clusterNames: false } as NodeShape,
        ]),
      ),
      cluster: clusterFacts({
        coredns: { pods: COREDNS.map((pod) => ({ ...pod, ready: false })), endpoints: [], desired: 2 },
      }),
      fails: ['dns.cause.coredns cluster', ...NODES.map((node) => `dns.cause.coredns node/${node}`)],
    },
    {
      title: 'upstream down → upstream, cluster-wide and per node',
      shapes: Object.fromEntries(
        NODES.map((node) => [node, { external: 'SERVFAIL', upstream: 'timeout', externalNames: false } as NodeShape]),
      ),
      fails: ['dns.cause.upstream cluster', ...NODES.map((node) => `dns.cause.upstream node/${node}`)],
    },
    {
      title: 'upstream down while caches still answer external names → upstream all the same (the uncached name)',
      shapes: Object.fromEntries(
        NODES.map((node) => [node, { uncached: 'SERVFAIL', upstream: 'timeout' } as NodeShape]),
      ),
      fails: ['dns.cause.upstream cluster', ...NODES.map((node) => `dns.cause.upstream node/${node}`)],
    },
    {
      title: 'a default external name resolving nowhere (air-gapped) is no upstream cause',
      shapes: Object.fromEntries(
        NODES.map((node) => [
          node,
          { external: 'NXDOMAIN', upstream: 'NXDOMAIN', externalNames: false, defaultExternal: true } as NodeShape,
        ]),
      ),
      fails: [],
    },
    {
      title: 'CoreDNS slow → slow, naming CoreDNS',
      shapes: Object.fromEntries(
        NODES.map((node) => [node, { clusterip: { ms: 1500 }, corednsPods: { ms: 1500 } } as NodeShape]),
      ),
      fails: [],
      warns: NODES.map((node) => `dns.cause.slow node/${node}`),
    },
    {
      title: 'CoreDNS pods unreachable from worker1 only → the pod network from worker1',
      shapes: {
        'worker1.kube.local': {
          corednsPods: 'timeout',
          clusterip: 'timeout',
          nodelocal: 'SERVFAIL',
          clusterNames: false,
        },
      },
      fails: ['dns.cause.podnet node/worker1.kube.local'],
    },
  ];
  for (const entry of cases)
    it(entry.title, () => {
      const findings = causeFindings(lab(entry.shapes), entry.cluster ?? cluster);
      assert.deepEqual(ids(findings, 'fail'), [...entry.fails].sort());
      assert.deepEqual(ids(findings, 'warn'), [...(entry.warns ?? [])].sort());
    });
  it('the slow cause says the cache answers cached names fast', () => {
    const findings = causeFindings(
      lab({ 'worker1.kube.local': { clusterip: { ms: 1500 }, corednsPods: { ms: 1500 } } }),
      cluster,
    );
    assert.match(
      findings[0]?.summary ?? '',
      /CoreDNS answers slowly .*median 1500 ms.*node-local cache answers cached names fast/,
    );
    assert.equal(findings[0]?.metrics?.slow, 'coredns');
  });
});

describe('cluster findings', () => {
  const byId = (facts: ReturnType<typeof clusterFacts>, id: string) =>
    clusterFindings(facts, lab()).find((f) => f.id === id);
  it('a healthy cluster passes (the autoscaler absent is a skip)', () => {
    const findings = clusterFindings(clusterFacts(), lab());
    assert.deepEqual(ids(findings, 'fail').concat(ids(findings, 'warn')), []);
    assert.equal(statusOf(findings, DnsIds.clusterAutoscaler, 'cluster'), 'skip');
  });
  const cases: [string, Partial<ReturnType<typeof clusterFacts>>, string, string][] = [
    ['no ready endpoint', { coredns: { pods: COREDNS, endpoints: [], desired: 2 } }, DnsIds.clusterCoredns, 'fail'],
    [
      'one pod not Ready',
      { coredns: { pods: [COREDNS[0]!, { ...COREDNS[1]!, ready: false }], endpoints: ['10.233.64.3'], desired: 2 } },
      DnsIds.clusterCoredns,
      'warn',
    ],
    [
      'both pods on one node',
      {
        coredns: {
          pods: COREDNS.map((pod) => ({ ...pod, node: 'worker1.kube.local' })),
          endpoints: ['a', 'b'],
          desired: 2,
        },
      },
      DnsIds.clusterCoredns,
      'warn',
    ],
    [
      'no 53/TCP',
      { kubeDns: { namespace: 'kube-system', name: 'kube-dns', ip: '10.233.0.10', ports: ['53/UDP'] } },
      DnsIds.clusterService,
      'fail',
    ],
    ['RBAC denied', { rbacDenied: ['list endpointslices'] }, DnsIds.clusterRbac, 'fail'],
    ['RBAC unknown', { rbacDenied: undefined }, DnsIds.clusterRbac, 'skip'],
    ['no loop plugin', { corefile: { ...clusterFacts().corefile!, loop: false } }, DnsIds.clusterCorefile, 'warn'],
    [
      'loop detected in the logs',
      { logEvents: [{ kind: 'loop', line: '[FATAL] plugin/loop: Loop detected', pod: 'coredns-x' }] },
      DnsIds.clusterLogs,
      'fail',
    ],
    [
      'i/o timeouts in the logs',
      { logEvents: [{ kind: 'timeout', line: '[ERROR] plugin/errors: i/o timeout', pod: 'coredns-x' }] },
      DnsIds.clusterLogs,
      'warn',
    ],
    [
      'node cache not Ready where pods use it',
      {
        nodeLocal: {
          ...clusterFacts().nodeLocal!,
          daemonSet: { name: 'nodelocaldns', desired: 3, ready: 2, notReadyNodes: ['worker2.kube.local'] },
        },
      },
      DnsIds.clusterNodeLocal,
      'fail',
    ],
    [
      'autoscaler off by one',
      {
        autoscaler: {
          name: 'dns-autoscaler',
          params: {
            mode: 'linear',
            coresPerReplica: 256,
            nodesPerReplica: 16,
            min: 1,
            max: 0,
            preventSinglePointFailure: true,
            includeUnschedulableNodes: false,
          },
          nodes: 3,
          cores: 6,
          expected: 2,
          actual: 3,
        },
      },
      DnsIds.clusterAutoscaler,
      'warn',
    ],
  ];
  for (const [title, overrides, id, status] of cases)
    it(`${title} → ${id} ${status}`, () => assert.equal(byId(clusterFacts(overrides), id)?.status, status));
});
