/**
 * Finding ids of `node` (the team catalogue: doctor's correlation rules read them). Subjects are `node/<name>`, or
 * `cluster` for the fleet-wide pass of the odd-one-out check.
 */
export const NODE_IDS = {
  cniConfig: 'node.cni.config',
  cniBinaries: 'node.cni.binaries',
  runtime: 'node.runtime',
  kubeProxyRules: 'node.kube-proxy.rules',
  iptablesBackend: 'node.iptables.backend',
  sysctl: 'node.sysctl',
  interfaceErrors: 'node.interface.errors',
  interfaceMtu: 'node.interface.mtu',
  interfaceRateLimit: 'node.interface.rate-limit',
  conntrack: 'node.conntrack',
  podRoutes: 'node.routes.pod-cidr',
  oddOneOut: 'node.odd-one-out',
} as const;

export type NodeFindingId = (typeof NODE_IDS)[keyof typeof NODE_IDS];

export const nodeSubject = (node: string): string => `node/${node}`;
