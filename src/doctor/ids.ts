/**
 * Diagnosis ids of `kubectl netdiag doctor` (the team catalogue): what a diagnosis names as the cause. Stable; tests
 * and users match on them, never on the prose.
 */
export const DoctorIds = {
  /** The control plane does not publish the pods behind a new Service (the EndpointSlice controller). */
  serviceEndpoints: 'doctor.service-endpoints',
  /** kube-proxy's Service rules on a node: ClusterIP/NodePort (and so DNS) fail there while pod IPs work. */
  kubeProxy: 'doctor.kube-proxy',
  /** The node-local DNS cache on a node does not answer while kube-dns does. */
  nodeLocalDns: 'doctor.nodelocaldns',
  /** CoreDNS is down (or slow) for the whole cluster. */
  coredns: 'doctor.coredns',
  /** CoreDNS's upstream resolver does not answer: cluster names resolve, external names do not. */
  upstreamDns: 'doctor.upstream-dns',
  /** Traffic out of the cluster is blocked from a node (or from every node) while the cluster inside works. */
  egress: 'doctor.egress',
  /** Pod traffic between two nodes (or to/from one node) is lost: the underlay route, the overlay or a firewall. */
  podnetPath: 'doctor.podnet-path',
  /** Full-size packets with DF set are lost: an MTU mismatch. */
  mtu: 'doctor.mtu',
  /** Loss while a node's NIC error counters move: hardware (cable, NIC, driver). */
  nicHardware: 'doctor.nic-hardware',
  /** Loss while DROP/REJECT rule counters move on a node: a firewall. */
  firewall: 'doctor.firewall',
  /** A qdisc holds a node's interface to a rate: a configured limit every test through it measures. */
  trafficShaping: 'doctor.traffic-shaping',
  /** A node's (or a pair's) bandwidth far below the rest with no other cause found. */
  bandwidthOutlier: 'doctor.bandwidth-outlier',
  /** A node that differs from the fleet (CNI, kube-proxy, sysctls, runtime...). */
  oddNode: 'doctor.odd-node',
  /** A finding, not a diagnosis: one of the commands doctor runs could not run (subject `cluster`). */
  step: 'doctor.step',
} as const;

export type DiagnosisId = Exclude<(typeof DoctorIds)[keyof typeof DoctorIds], typeof DoctorIds.step>;
