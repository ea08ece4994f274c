/**
 * What the DNS engine saw, as plain data: the cluster side (read once through the API) and, per node, what a probe
 * pod with dnsPolicy ClusterFirst saw. The checks (checks.ts) turn these into findings; nothing here does I/O.
 */
import type {
  AutoscalerParams,
  CorednsLogEvent,
  CorefileSummary,
  DigResult,
  GetentResult,
  ResolvConf,
} from './parse.js';

/** Where a query went, in path order: pod → node-local cache → kube-dns ClusterIP → a CoreDNS pod → upstream. */
export const HOP_ROLES = ['nodelocal', 'clusterip', 'coredns-pod', 'upstream'] as const;
export type HopRole = (typeof HOP_ROLES)[number];

export interface Resolver {
  readonly role: HopRole;
  readonly address: string;
  /** What it is: `node-local cache`, `kube-dns`, the CoreDNS pod's name, `upstream`. */
  readonly label: string;
}

export type Protocol = 'udp' | 'tcp';

export type QueryScope = 'cluster' | 'external' | 'uncached';

export interface QueryFact {
  readonly name: string;
  readonly protocol: Protocol;
  /**
   * The name is a cluster name (answered by CoreDNS itself), an external one (forwarded upstream), or an uncached
   * one: a fresh random name under an external name's zone, which no cache can answer, so that any reply to it
   * (NXDOMAIN included) is the upstream's own.
   */
  readonly scope: QueryScope;
  /** Addresses the answer must contain; empty = any address. */
  readonly expected: readonly string[];
  readonly result: DigResult;
  /** dig's output as printed, for evidence. */
  readonly output: string;
}

export interface HopFacts {
  readonly resolver: Resolver;
  readonly queries: readonly QueryFact[];
}

/** Why a name was looked up through the pod's resolver. */
export type LookupKind = 'cluster' | 'pod' | 'name' | 'external';

export interface LookupFact {
  readonly name: string;
  readonly kind: LookupKind;
  /** Addresses the answer must contain (`kubernetes.default` → the kubernetes Service IP); empty = any address. */
  readonly expected: readonly string[];
  /** An external name the user did not ask for: unresolvable means air-gapped (skip), not broken. */
  readonly isDefault: boolean;
  readonly result: GetentResult;
  readonly exitCode: number;
  /** Wall time of the C library lookup, 10 ms resolution. */
  readonly ms: number;
  readonly output: string;
}

export interface NodeFacts {
  readonly node: string;
  readonly pod: string;
  readonly podIP: string;
  readonly namespace: string;
  readonly resolvConfText: string | undefined;
  readonly resolvConf: ResolvConf | undefined;
  readonly lookups: readonly LookupFact[];
  /** The same cluster name looked up several times in a row through the C library (client behaviour). */
  readonly repeated: readonly LookupFact[];
  readonly hops: readonly HopFacts[];
  /** A name whose answer does not fit UDP: the UDP answer (TC expected) and the TCP one. */
  readonly largeAnswer: { readonly udp: QueryFact; readonly tcp: QueryFact } | undefined;
  /** The probe's tools were missing (an image without dig or getent). */
  readonly missingTools: readonly string[];
}

export interface CorednsPod {
  readonly name: string;
  readonly node: string;
  readonly ip: string;
  readonly ready: boolean;
}

export interface NodeLocalFacts {
  readonly address: string;
  /** Where the address was learned: `resolv.conf`, `configmap kube-system/nodelocaldns`, `daemonset … args`. */
  readonly source: string;
  /** The node-cache DaemonSet: nodes whose cache pod is not Ready. Undefined when no DaemonSet was found. */
  readonly daemonSet:
    | {
        readonly name: string;
        readonly desired: number;
        readonly ready: number;
        readonly notReadyNodes: readonly string[];
      }
    | undefined;
  readonly corefile: CorefileSummary | undefined;
}

export interface AutoscalerFacts {
  readonly name: string;
  readonly params: AutoscalerParams | undefined;
  readonly nodes: number;
  readonly cores: number;
  readonly expected: number | undefined;
  readonly actual: number;
}

export interface ClusterFacts {
  readonly domain: string;
  readonly kubernetesIP: string;
  readonly kubeDns: {
    readonly namespace: string;
    readonly name: string;
    readonly ip: string;
    /** `53/UDP`, `53/TCP`, `9153/TCP`. */
    readonly ports: readonly string[];
  };
  readonly coredns: {
    readonly pods: readonly CorednsPod[];
    /** Ready endpoint addresses of the kube-dns Service. */
    readonly endpoints: readonly string[];
    readonly desired: number | undefined;
  };
  readonly corefile: CorefileSummary | undefined;
  readonly nodeLocal: NodeLocalFacts | undefined;
  /** Resources CoreDNS's service account may not list/watch; undefined when it could not be asked. */
  readonly rbacDenied: readonly string[] | undefined;
  readonly logEvents: readonly (CorednsLogEvent & { readonly pod: string })[];
  /** undefined: no DNS autoscaler in the cluster. */
  readonly autoscaler: AutoscalerFacts | undefined;
}
