/** Facts for the DNS check tests: a healthy 3-node lab (as discovered on the real lab), and ways to break it. */
import type {
  ClusterFacts,
  HopFacts,
  HopRole,
  LookupFact,
  NodeFacts,
  Protocol,
  QueryFact,
  QueryScope,
} from '../../../src/dns/facts.js';
import type { CorefileSummary, DigResult } from '../../../src/dns/parse.js';

export const KUBERNETES_IP = '10.233.0.1';
export const KUBE_DNS_IP = '10.233.0.10';
export const NODE_LOCAL_IP = '169.254.25.10';
export const COREDNS = [
  { name: 'coredns-6d4b-abcde', node: 'worker1.kube.local', ip: '10.233.64.3', ready: true },
  { name: 'coredns-6d4b-fghij', node: 'worker2.kube.local', ip: '10.233.65.4', ready: true },
];
export const NODES = ['worker1.kube.local', 'worker2.kube.local', 'worker3.kube.local'];

export type QueryOutcome = { ms: number; address?: string } | 'timeout' | 'refused' | 'SERVFAIL' | 'NXDOMAIN';

export function digResult(outcome: QueryOutcome): DigResult {
  const base = { flags: ['qr', 'rd', 'ra'], truncated: false, server: undefined, failureText: undefined };
  if (outcome === 'timeout' || outcome === 'refused')
    return {
      ...base,
      flags: [],
      rcode: undefined,
      answers: [],
      queryTimeMs: undefined,
      failure: outcome,
      failureText: `;; ${outcome}`,
    };
  if (outcome === 'SERVFAIL' || outcome === 'NXDOMAIN')
    return { ...base, rcode: outcome, answers: [], queryTimeMs: 1, failure: undefined };
  return {
    ...base,
    rcode: 'NOERROR',
    answers: [{ name: 'x.', ttl: 30, type: 'A', data: outcome.address ?? KUBERNETES_IP }],
    queryTimeMs: outcome.ms,
    failure: undefined,
  };
}

const QUERY_NAMES: Record<QueryScope, string> = {
  cluster: 'kubernetes.default.svc.cluster.local',
  external: 'www.netdiag.test',
  uncached: 'netdiag-1f.netdiag.test',
};

export function query(scope: QueryScope, protocol: Protocol, outcome: QueryOutcome): QueryFact {
  return {
    name: QUERY_NAMES[scope],
    protocol,
    scope,
    expected: scope === 'cluster' ? [KUBERNETES_IP] : [],
    result: digResult(
      scope === 'external' && typeof outcome === 'object' ? { ...outcome, address: '172.30.78.10' } : outcome,
    ),
    output: '',
  };
}

/**
 * A hop with `count` cluster queries per protocol (all with the same outcome) and one external query; a CoreDNS pod
 * also gets the uncached name (by default the upstream's NXDOMAIN when external names are answered, else as they end).
 */
export function hop(
  role: HopRole,
  address: string,
  label: string,
  cluster: QueryOutcome,
  external: QueryOutcome = { ms: 2 },
  count = 3,
  uncached: QueryOutcome = typeof external === 'object' ? 'NXDOMAIN' : external,
): HopFacts {
  const queries: QueryFact[] = [];
  if (role !== 'upstream')
    for (const protocol of ['udp', 'tcp'] as const)
      for (let i = 0; i < count; i++) queries.push(query('cluster', protocol, cluster));
  queries.push(query('external', 'udp', external));
  if (role === 'coredns-pod') queries.push(query('uncached', 'udp', uncached));
  return { resolver: { role, address, label }, queries };
}

export function lookup(
  name: string,
  kind: LookupFact['kind'],
  resolved: boolean,
  options: { expected?: string[]; ms?: number; isDefault?: boolean; address?: string } = {},
): LookupFact {
  const address = options.address ?? options.expected?.[0] ?? '10.0.0.1';
  return {
    name,
    kind,
    expected: options.expected ?? [],
    isDefault: options.isDefault ?? false,
    result: resolved ? { addresses: [address], canonicalName: name } : { addresses: [], canonicalName: undefined },
    exitCode: resolved ? 0 : 2,
    ms: options.ms ?? 10,
    output: resolved ? `${address}      STREAM ${name}` : '',
  };
}

export interface NodeShape {
  nodelocal?: QueryOutcome;
  clusterip?: QueryOutcome;
  corednsPods?: QueryOutcome | QueryOutcome[];
  /** Where external queries sent to CoreDNS (and the cache, the ClusterIP) end. */
  external?: QueryOutcome;
  /** Where the name no cache has seen, sent to each CoreDNS pod, ends (see {@link hop}). */
  uncached?: QueryOutcome;
  upstream?: QueryOutcome;
  clusterNames?: boolean;
  externalNames?: boolean;
  /** The external name is the built-in default rather than one the user passed. */
  defaultExternal?: boolean;
  repeatedMs?: number[];
  podName?: boolean;
}

/** One node's facts; everything healthy unless the shape says otherwise. */
export function nodeFacts(node: string, shape: NodeShape = {}): NodeFacts {
  const fast = { ms: 1 };
  const external = shape.external ?? { ms: 3 };
  const single = shape.corednsPods;
  const pods: QueryOutcome[] = Array.isArray(single) ? single : COREDNS.map(() => single ?? fast);
  const clusterOk = shape.clusterNames ?? true;
  return {
    node,
    pod: `netdiag-pod-probe-${node.slice(6, 7)}`,
    podIP: '10.233.66.9',
    namespace: 'default',
    resolvConfText: `search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${NODE_LOCAL_IP}\noptions ndots:5\n`,
    resolvConf: {
      nameservers: [NODE_LOCAL_IP],
      search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5,
      timeout: undefined,
      attempts: undefined,
      singleRequestReopen: false,
      singleRequest: false,
      options: ['ndots:5'],
    },
    lookups: [
      lookup('kubernetes.default', 'cluster', clusterOk, { expected: [KUBERNETES_IP] }),
      lookup('kube-dns.kube-system', 'cluster', clusterOk, { expected: [KUBE_DNS_IP] }),
      lookup('10-233-66-9.default.pod.cluster.local', 'pod', shape.podName ?? clusterOk, { expected: ['10.233.66.9'] }),
      lookup('www.netdiag.test', 'external', shape.externalNames ?? true, {
        address: '172.30.78.10',
        isDefault: shape.defaultExternal ?? false,
      }),
    ],
    repeated: (shape.repeatedMs ?? [10, 10, 10, 10, 10]).map((ms) =>
      lookup('kubernetes.default', 'cluster', clusterOk, { expected: [KUBERNETES_IP], ms }),
    ),
    hops: [
      hop('nodelocal', NODE_LOCAL_IP, 'node-local cache', shape.nodelocal ?? fast, external),
      hop('clusterip', KUBE_DNS_IP, 'kube-dns', shape.clusterip ?? fast, external),
      ...COREDNS.map((pod, index) =>
        hop('coredns-pod', pod.ip, pod.name, pods[index] ?? fast, external, 3, shape.uncached),
      ),
      hop('upstream', '172.30.78.1', 'upstream', fast, shape.upstream ?? { ms: 2 }),
    ],
    largeAnswer: undefined,
    missingTools: [],
  };
}

/** What summarizeCorefile reads from the lab's Corefile (test/fixtures/dns/coredns.Corefile). */
export const LAB_COREFILE: CorefileSummary = {
  zones: ['.'],
  forward: ['172.30.78.53'],
  kubernetesZones: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
  podsMode: 'insecure',
  loop: true,
  errors: true,
  cache: { successTtl: 30, denialTtl: 30 },
  bind: [],
};

export function clusterFacts(overrides: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    domain: 'cluster.local',
    kubernetesIP: KUBERNETES_IP,
    kubeDns: { namespace: 'kube-system', name: 'kube-dns', ip: KUBE_DNS_IP, ports: ['53/UDP', '53/TCP', '9153/TCP'] },
    coredns: { pods: COREDNS, endpoints: COREDNS.map((pod) => pod.ip), desired: 2 },
    corefile: LAB_COREFILE,
    nodeLocal: {
      address: NODE_LOCAL_IP,
      source: "pods' resolv.conf",
      daemonSet: { name: 'nodelocaldns', desired: 3, ready: 3, notReadyNodes: [] },
      corefile: undefined,
    },
    rbacDenied: [],
    logEvents: [],
    autoscaler: undefined,
    ...overrides,
  };
}
