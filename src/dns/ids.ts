/**
 * Finding ids of `kubectl netdiag dns`: a contract doctor's correlation rules read (the team catalogue), so they are
 * constants here and nowhere spelled by hand. A pass uses the same id as the failure it rules out.
 */
export const DnsIds = {
  /** The pod's /etc/resolv.conf: nameserver, search list, ndots, counts glibc ignores. Subject `node/<node>`. */
  resolvConf: 'dns.resolvconf',
  /** Cluster names through the pod's resolver (search list, C library): `kubernetes.default`, kube-dns, `--name`s. */
  lookupCluster: 'dns.lookup.cluster',
  /** A pod's own FQDN `a-b-c-d.<ns>.pod.<domain>` (needs `pods insecure|verified` in the Corefile). */
  lookupPod: 'dns.lookup.pod',
  /** External names through the pod's resolver. */
  lookupExternal: 'dns.lookup.external',
  /** Queries sent straight to each resolver in the path. */
  hopNodeLocal: 'dns.hop.nodelocal',
  hopClusterIp: 'dns.hop.clusterip',
  hopCorednsPod: 'dns.hop.coredns-pod',
  hopUpstream: 'dns.hop.upstream',
  /** An answer too large for UDP: truncated over UDP, complete over TCP. */
  largeAnswer: 'dns.tcp.large-answer',
  /** Latency per resolver (median, p95) and the client's lookups through the C library. */
  latency: 'dns.latency',
  /** Runs of ≈5 s lookups through the C library: the conntrack race on parallel A/AAAA over UDP. */
  conntrackRace: 'dns.client.conntrack-race',
  /** With --capture: what the pod really sent for a short external name (search expansion). */
  searchExpansion: 'dns.capture.search-expansion',
  /** With --propagation: time until a new Service's name resolves, per node. */
  propagation: 'dns.propagation',
  /** Cluster side (subject `cluster`). */
  clusterCoredns: 'dns.cluster.coredns',
  clusterService: 'dns.cluster.service',
  clusterRbac: 'dns.cluster.rbac',
  clusterCorefile: 'dns.cluster.corefile',
  clusterNodeLocal: 'dns.cluster.nodelocal',
  clusterLogs: 'dns.cluster.logs',
  clusterAutoscaler: 'dns.cluster.autoscaler',
  /** Symptom → cause: which hop is broken, named once the per-hop facts are in. */
  causeNodeLocal: 'dns.cause.nodelocal',
  causeCoredns: 'dns.cause.coredns',
  causeUpstream: 'dns.cause.upstream',
  causeKubeProxy: 'dns.cause.kube-proxy',
  causeSlow: 'dns.cause.slow',
  /** CoreDNS pods answer from other nodes but not from this one: the pod network between it and CoreDNS. */
  causePodNetwork: 'dns.cause.podnet',
} as const;

export type DnsId = (typeof DnsIds)[keyof typeof DnsIds];
