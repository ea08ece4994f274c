/**
 * The finding ids `check` reports: the contract doctor's correlation rules read (docs/check.md). Subjects:
 * `<from>→<to>` (node names) for pair checks; `node/<from>` for checks of one node's view of a Service or the outside
 * world, where `metrics.target` says which target (a node can have several: ClusterIP over TCP and UDP, several
 * `--target`s). Failures carry `metrics.reason` (`refused`, `timeout`, `no-route`, `unresolved`, `http-<code>`, ...).
 */
export const CHECK_IDS = {
  /** Ping from the probe pod to the echo pod on each node (the same node included). Pair. */
  podToPod: 'check.l3.pod-pod',
  /** Ping from the probe pod to each node's InternalIP. Pair. */
  podToNode: 'check.l3.pod-node',
  /** TCP to the echo server by its pod IP (no kube-proxy on the path). Pair. */
  podIP: 'check.l4.podip',
  /** TCP (and UDP) to the test Service's ClusterIP: the sending node's kube-proxy rules. Node. */
  clusterIP: 'check.l4.clusterip',
  /**
   * TCP to the test Service's NodePort on each node's InternalIP: the receiving node's kube-proxy rules. Pair, `to` is
   * the node whose address and rules are used.
   */
  nodePort: 'check.l4.nodeport',
  /** TCP to the test Service by its DNS name: the resolver path plus the ClusterIP. Node. */
  serviceName: 'check.l4.name',
  /** HTTP GET of the test Service by ClusterIP and by name, with the status and time. Node. */
  http: 'check.l7.http',
  /** Don't-fragment ping at the pod interface's MTU between nodes; the largest size that passes when it fails. Pair. */
  mtu: 'check.mtu',
  /** `--target host:port`. Node. */
  externalTcp: 'check.external.tcp',
  /** `--target udp:host:port`. Node. */
  externalUdp: 'check.external.udp',
  /** `--url URL`. Node. */
  externalHttp: 'check.external.http',
  /** `--ping HOST`. Node. */
  externalPing: 'check.external.ping',
  /** The `kubernetes` Service (the API server through its ClusterIP), over HTTPS. Node. */
  kubernetesService: 'check.kubernetes-service',
  /**
   * The echo pods became ready endpoints of the test Service (the control plane's EndpointSlice controller) before
   * the Service probes ran; with none, those probes are not run (they would blame kube-proxy). Cluster.
   */
  serviceEndpoints: 'check.service.endpoints',
} as const;

export type CheckId = (typeof CHECK_IDS)[keyof typeof CHECK_IDS];
/** The checks a probe sends (every one but the endpoints of the test Service, which the API tells). */
export type ProbeCheckId = Exclude<CheckId, typeof CHECK_IDS.serviceEndpoints>;
