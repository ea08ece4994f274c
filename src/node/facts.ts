/**
 * From parsed sections to one node's facts: which runtime, kubelet and kube-proxy settings apply (`discover`), what
 * `inspect` must be told (`inspectPlan`), and the node's facts (`nodeFacts`): CNI, runtime, kube-proxy and iptables,
 * kernel settings, interfaces, and the pod network's shape (flat or overlay, encapsulation overhead, pod MTU, routes
 * to the other nodes' pod CIDRs). Pure.
 */
import type { InspectPlan } from './collect.js';
import {
  parseCounters,
  type CounterSnapshot,
  type FirewallRule,
  type InterfaceCounters,
  type Qdisc,
} from './counters.js';
import {
  iptablesServicePorts,
  kubeServicesRules,
  kubeletSettings,
  kubeProxySettings,
  nftServicePorts,
  parseCniBinaries,
  parseCniFiles,
  parseConntrackStats,
  parseContainers,
  parseCrictlVersion,
  parseDaemons,
  parseIpAddr,
  parseIpRoute,
  parseKubeProxyHealth,
  parseSysctls,
  runtimeSettings,
  type CniConfigFile,
  type ContainerList,
  type KubeletSettings,
  type KubeProxyHealth,
  type KubeProxySettings,
  type NodeInterface,
  type Route,
  type RuntimeSettings,
} from './parse.js';
import { okOutput, type Sections } from './sections.js';

// ---------------------------------------------------------------------------------------------------------------
// discover → plan

export interface Discovered {
  readonly netns?: string;
  readonly kubelet?: KubeletSettings;
  readonly runtime: RuntimeSettings;
  readonly kubeProxy?: KubeProxySettings;
}

export function discover(sections: Sections): Discovered {
  const daemons = parseDaemons(sections);
  const kubeletProcess = daemons.find((daemon) => daemon.comm === 'kubelet');
  const kubelet = kubeletProcess ? kubeletSettings(kubeletProcess) : undefined;
  const kubeProxyProcess = daemons.find((daemon) => daemon.comm === 'kube-proxy');
  return {
    netns: okOutput(sections, 'netns')?.trim(),
    kubelet,
    runtime: runtimeSettings(daemons, kubelet?.runtimeEndpoint),
    kubeProxy: kubeProxyProcess ? kubeProxySettings(kubeProxyProcess) : undefined,
  };
}

/** Container ids are hex; anything else (from a pod's status) is not passed to the node. */
export const CONTAINER_ID = /^[0-9a-f]{12,128}$/;

export function inspectPlan(
  discovered: Discovered,
  options: { full: boolean; inspectContainers: readonly string[] },
): InspectPlan {
  const { runtime, kubeProxy } = discovered;
  return {
    // The runtime's own view of the filesystem; /host when its process was not found.
    root: runtime.pid !== undefined ? `/proc/${runtime.pid}/root` : '/host',
    cniConfDir: runtime.cniConfDir,
    cniBinDirs: runtime.cniBinDirs,
    containerdState: runtime.name === 'containerd' ? runtime.state : undefined,
    criSocket: runtime.socket,
    kubeProxyMetrics: kubeProxy?.metricsAddress ?? '127.0.0.1:10249',
    kubeProxyHealthz: kubeProxy?.healthzAddress ?? '127.0.0.1:10256',
    inspectContainers: options.inspectContainers.filter((id) => CONTAINER_ID.test(id)),
    full: options.full,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// the node's facts

/** What the API says about the node (the engine reads it; the facts do not depend on an exec for it). */
export interface NodeIdentity {
  readonly name: string;
  readonly internalIP?: string;
  readonly podCIDRs: readonly string[];
  /** status.nodeInfo.containerRuntimeVersion, e.g. `containerd://1.6.20` (kubelet asked the runtime). */
  readonly runtimeVersion?: string;
}

export interface CniBinary {
  readonly type: string;
  /** The bin directory holding it, or undefined when none does. */
  readonly dir?: string;
}

export interface CniFacts {
  readonly confDir: string;
  readonly binDirs: readonly string[];
  readonly dirsFrom: string;
  /** Every file of the config directory, lexically sorted (the order libcni loads them in). */
  readonly files: readonly CniConfigFile[];
  /** The file the runtime uses: the lexically first .conf/.conflist/.json. */
  readonly active?: string;
  /** Other loadable config files the runtime ignores (a leftover of another CNI, usually). */
  readonly ignored: readonly string[];
  /** Every plugin type (and IPAM type) of the active chain, and where its binary is. */
  readonly binaries: readonly CniBinary[];
  /** Bin directories that do not exist. */
  readonly missingBinDirs: readonly string[];
}

export interface RuntimeFacts {
  readonly name: string;
  readonly version?: string;
  readonly endpoint?: string;
  readonly endpointFrom?: string;
  readonly socket?: string;
  readonly configPath?: string;
  /** The runtime's process was found in the node's network namespace. */
  readonly running: boolean;
  readonly containers?: ContainerList;
}

export interface KubeProxyFacts {
  readonly running: boolean;
  /** From kube-proxy's /proxyMode, else its config; `none` when there is no kube-proxy. */
  readonly mode: string;
  readonly modeFrom: 'metrics' | 'config' | 'none';
  readonly health?: KubeProxyHealth;
  readonly healthError?: string;
  /** kube-proxy's Service rules are there: nat KUBE-SERVICES has rules (nftables: its map; ipvs: kube-ipvs0). */
  readonly servicesChain: boolean;
  /** Service ports (`ns/name:port`) the rules cover (iptables, nftables) or ClusterIPs on kube-ipvs0 (ipvs). */
  readonly programmed: readonly string[];
}

export type IptablesBackend = 'nft' | 'legacy' | 'none';

export interface IptablesFacts {
  /** The backend holding kube-proxy's chains, else the one with more rules. */
  readonly backend: IptablesBackend;
  readonly legacyRules: number;
  readonly nftRules: number;
  /** Backends with rules in KUBE-* chains. */
  readonly kubeChainsIn: readonly ('legacy' | 'nft')[];
}

export interface ConntrackFacts {
  readonly count?: number;
  readonly max?: number;
  readonly stats: Readonly<Record<string, number>>;
}

export const ENCAPSULATION_KINDS = [
  'vxlan',
  'geneve',
  'ipip',
  'sit',
  'gre',
  'gretap',
  'ip6tnl',
  'ip6gre',
  'wireguard',
] as const;

/** Bytes each encapsulation adds to a packet over an IPv4 underlay (IPv6 adds 20 more). */
export const ENCAPSULATION_OVERHEAD: Readonly<Record<string, number>> = {
  vxlan: 50,
  geneve: 50,
  ipip: 20,
  sit: 20,
  gre: 24,
  gretap: 38,
  ip6tnl: 40,
  ip6gre: 44,
  wireguard: 60,
};

export type PodRouteKind = 'specific' | 'default' | 'none';

export interface PodRoute {
  readonly node: string;
  readonly cidr: string;
  readonly kind: PodRouteKind;
  readonly dev?: string;
  readonly gateway?: string;
  /** The device carrying it is down. */
  readonly deviceDown?: boolean;
}

export interface NetworkFacts {
  /** flat: pod CIDRs are routed by the underlay; overlay: an encapsulating device carries pod traffic. */
  readonly kind: 'flat' | 'overlay' | 'unknown';
  readonly underlay?: { readonly device: string; readonly mtu: number; readonly address: string };
  readonly encapsulation?: {
    readonly device: string;
    readonly kind: string;
    readonly overhead: number;
    readonly mtu: number;
  };
  /** The MTU pods get, and how it was read. */
  readonly podMtu?: number;
  readonly podMtuFrom?: string;
  /** The largest pod MTU the underlay carries: underlay MTU minus the encapsulation overhead. */
  readonly maxPodMtu?: number;
  readonly podRoutes: readonly PodRoute[];
}

export interface NodeFacts {
  readonly node: string;
  readonly kernel?: string;
  readonly runtime: RuntimeFacts;
  readonly cni: CniFacts;
  readonly kubeProxy: KubeProxyFacts;
  readonly iptables: IptablesFacts;
  /** Selected sysctls of the node's network namespace (`net.ipv4.ip_forward` → `1`); absent key = not present. */
  readonly sysctls: Readonly<Record<string, string>>;
  readonly conntrack: ConntrackFacts;
  readonly interfaces: readonly NodeInterface[];
  /** NIC statistics of every interface (counters.ts). */
  readonly counters: readonly InterfaceCounters[];
  /** Every interface's queueing disciplines (`tc -s -j qdisc show`); empty when tc printed nothing. */
  readonly qdiscs: readonly Qdisc[];
  readonly network: NetworkFacts;
}

export interface FactsInput {
  readonly identity: NodeIdentity;
  /** Every node's pod CIDRs (the routes to check), from the API. */
  readonly peers: readonly { readonly name: string; readonly podCIDRs: readonly string[] }[];
  readonly discovered: Discovered;
  readonly inspected: Sections;
}

function cniFacts(runtime: RuntimeSettings, sections: Sections): CniFacts {
  const files = parseCniFiles(sections);
  const loadable = files.filter((file) => file.kind !== 'other');
  const active = loadable[0];
  const binDirs = parseCniBinaries(sections);
  const types = new Set<string>();
  for (const plugin of active?.valid ? active.plugins : []) {
    types.add(plugin.type);
    if (plugin.ipam) types.add(plugin.ipam);
  }
  return {
    confDir: runtime.cniConfDir,
    binDirs: runtime.cniBinDirs,
    dirsFrom: runtime.cniDirsFrom,
    files,
    active: active?.name,
    ignored: loadable
      .slice(1)
      .filter((file) => file.valid)
      .map((file) => file.name),
    binaries: [...types].map((type) => ({
      type,
      dir: runtime.cniBinDirs.find((dir) => binDirs.get(dir)?.includes(type)),
    })),
    missingBinDirs: runtime.cniBinDirs.filter((dir) => !binDirs.has(dir)),
  };
}

function runtimeFacts(identity: NodeIdentity, discovered: Discovered, sections: Sections): RuntimeFacts {
  const crictl = parseCrictlVersion(okOutput(sections, 'crictl-version'));
  const fromApi = identity.runtimeVersion ? /^([^:]+):\/\/(.+)$/.exec(identity.runtimeVersion) : null;
  const { runtime, kubelet } = discovered;
  return {
    name: runtime.name !== 'unknown' ? runtime.name : (crictl.name ?? fromApi?.[1] ?? 'unknown'),
    version: crictl.version ?? fromApi?.[2],
    endpoint: kubelet?.runtimeEndpoint,
    endpointFrom: kubelet?.runtimeEndpointFrom,
    socket: runtime.socket,
    configPath: runtime.configPath,
    running: runtime.pid !== undefined,
    containers: parseContainers(sections),
  };
}

type XtablesBackend = 'iptables-legacy' | 'iptables-nft';

const ruleCount = (rules: readonly FirewallRule[], backend: XtablesBackend): number =>
  rules.filter((rule) => rule.backend === backend && !rule.rule.startsWith('policy ')).length;

const hasKubeChains = (rules: readonly FirewallRule[], backend: XtablesBackend): boolean =>
  rules.some((rule) => rule.backend === backend && rule.chain.startsWith('KUBE-'));

function iptablesFacts(snapshot: CounterSnapshot): IptablesFacts {
  const legacyRules = ruleCount(snapshot.rules, 'iptables-legacy');
  const nftRules = ruleCount(snapshot.rules, 'iptables-nft');
  const kubeChainsIn = [
    ...(hasKubeChains(snapshot.rules, 'iptables-legacy') ? ['legacy' as const] : []),
    ...(hasKubeChains(snapshot.rules, 'iptables-nft') ? ['nft' as const] : []),
  ];
  const backend: IptablesBackend =
    kubeChainsIn.length === 1
      ? (kubeChainsIn[0] ?? 'none')
      : legacyRules === 0 && nftRules === 0
        ? 'none'
        : legacyRules > nftRules
          ? 'legacy'
          : 'nft';
  return { backend, legacyRules, nftRules, kubeChainsIn };
}

function kubeProxyFacts(
  discovered: Discovered,
  sections: Sections,
  rules: readonly FirewallRule[],
  backend: XtablesBackend,
): KubeProxyFacts {
  const settings = discovered.kubeProxy;
  const reported = okOutput(sections, 'kube-proxy-mode')?.trim();
  const mode = reported || settings?.configuredMode || 'none';
  const healthz = sections.get('kube-proxy-healthz');
  const health = healthz?.status === 0 ? parseKubeProxyHealth(healthz.output) : undefined;
  const healthError = settings && !health ? (healthz?.stderr ?? healthz?.output ?? 'no answer').trim() : undefined;
  let programmed: string[];
  let servicesChain: boolean;
  if (mode === 'ipvs') {
    const ipvs = parseIpAddr(okOutput(sections, 'kube-ipvs0'))[0];
    programmed = (ipvs?.addresses ?? []).map((address) => address.replace(/\/\d+$/, ''));
    servicesChain = ipvs !== undefined;
  } else if (mode === 'nftables') {
    const map = okOutput(sections, 'kube-proxy-nft-services');
    programmed = [...nftServicePorts(map)];
    servicesChain = map !== undefined;
  } else {
    programmed = [...iptablesServicePorts(rules, backend)];
    servicesChain = kubeServicesRules(rules, backend).some((rule) => rule.table === 'nat');
  }
  return {
    running: settings !== undefined,
    mode,
    modeFrom: reported ? 'metrics' : settings ? 'config' : 'none',
    health,
    healthError,
    servicesChain,
    programmed: programmed.sort(),
  };
}

const SYSCTL_KEYS = [
  'net.ipv4.ip_forward',
  'net.ipv6.conf.all.forwarding',
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.conf.all.rp_filter',
  'net.ipv4.conf.default.rp_filter',
];

/** IPv4 `a.b.c.d/len` → [network address as a number, len]; undefined for anything else (IPv6 is compared as text). */
function ipv4Cidr(cidr: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(cidr);
  if (!match) return undefined;
  const len = match[5] === undefined ? 32 : Number(match[5]);
  if (len > 32) return undefined;
  const address = match.slice(1, 5).reduce((acc, part) => acc * 256 + Number(part), 0);
  const block = 2 ** (32 - len);
  return [address - (address % block), len];
}

/** Does `outer` contain `inner` (both CIDRs)? */
export function cidrContains(outer: string, inner: string): boolean {
  if (outer === 'default') return true;
  const a = ipv4Cidr(outer);
  const b = ipv4Cidr(inner);
  if (!a || !b) return outer === inner;
  if (a[1] > b[1]) return false;
  const block = 2 ** (32 - a[1]);
  return b[0] - (b[0] % block) === a[0];
}

function podRoute(
  peer: string,
  cidr: string,
  routes: readonly Route[],
  interfaces: readonly NodeInterface[],
): PodRoute {
  const covering = routes
    .filter(
      (route) =>
        route.table === 'main' &&
        (route.type === 'unicast' || route.type === 'blackhole') &&
        cidrContains(route.dst, cidr),
    )
    .sort(
      (a, b) =>
        (ipv4Cidr(b.dst)?.[1] ?? (b.dst === 'default' ? 0 : 128)) -
        (ipv4Cidr(a.dst)?.[1] ?? (a.dst === 'default' ? 0 : 128)),
    );
  const best = covering[0];
  if (!best || best.type === 'blackhole') return { node: peer, cidr, kind: 'none', dev: best?.dev };
  const device = interfaces.find((candidate) => candidate.name === best.dev);
  return {
    node: peer,
    cidr,
    kind: best.dst === 'default' ? 'default' : 'specific',
    dev: best.dev,
    gateway: best.gateway,
    deviceDown: device ? !device.up || device.state === 'DOWN' : undefined,
  };
}

/** The most common value (ties: the larger), or undefined for none. */
function mostCommon(values: readonly number[]): number | undefined {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0];
}

function networkFacts(
  input: FactsInput,
  interfaces: readonly NodeInterface[],
  routes: readonly Route[],
  cni: CniFacts,
): NetworkFacts {
  const { identity } = input;
  const underlayIf = identity.internalIP
    ? interfaces.find((candidate) =>
        candidate.addresses.some((address) => address.split('/')[0] === identity.internalIP),
      )
    : undefined;
  const underlay =
    underlayIf && identity.internalIP
      ? { device: underlayIf.name, mtu: underlayIf.mtu, address: identity.internalIP }
      : undefined;
  const podRoutes = input.peers
    .filter((peer) => peer.name !== identity.name)
    .flatMap((peer) => peer.podCIDRs.map((cidr) => podRoute(peer.name, cidr, routes, interfaces)));
  const encapDevices = interfaces.filter(
    (candidate) => (ENCAPSULATION_KINDS as readonly string[]).includes(candidate.kind) && candidate.up,
  );
  const routedEncap = encapDevices.find((device) => podRoutes.some((route) => route.dev === device.name));
  const routedUnderlay = podRoutes.some((route) => route.kind !== 'none' && route.dev === underlay?.device);
  const encapDevice = routedEncap ?? (routedUnderlay ? undefined : encapDevices[0]);
  const kind = encapDevice ? 'overlay' : routedUnderlay || podRoutes.length > 0 ? 'flat' : 'unknown';
  const ipv6Underlay = identity.internalIP?.includes(':') ?? false;
  const encapsulation = encapDevice
    ? {
        device: encapDevice.name,
        kind: encapDevice.kind,
        overhead: (ENCAPSULATION_OVERHEAD[encapDevice.kind] ?? 0) + (ipv6Underlay ? 20 : 0),
        mtu: encapDevice.mtu,
      }
    : undefined;
  // What pods get: the CNI config's mtu when it sets one, else the host ends of the pods' veths (what the CNI
  // plugin created), else the bridge of a bridge chain, else the encapsulating device.
  const activeFile = cni.files.find((file) => file.name === cni.active);
  // The host ends of pods' veths carry no address of their own; the node's uplink may be a veth too (the lab's is).
  const podVeths = interfaces.filter(
    (candidate) =>
      candidate.kind === 'veth' &&
      candidate.name !== underlay?.device &&
      !candidate.addresses.some((address) => !address.includes(':')),
  );
  const vethMtu = mostCommon(podVeths.map((veth) => veth.mtu));
  const bridge = interfaces.find(
    (candidate) =>
      candidate.kind === 'bridge' &&
      candidate.addresses.some((address) =>
        identity.podCIDRs.some((cidr) => cidrContains(cidr, address.split('/')[0] ?? '')),
      ),
  );
  const [podMtu, podMtuFrom] =
    activeFile?.mtu !== undefined
      ? [activeFile.mtu, `${activeFile.name} (mtu)`]
      : vethMtu !== undefined
        ? [vethMtu, 'pod veth interfaces']
        : bridge
          ? [bridge.mtu, `bridge ${bridge.name}`]
          : encapsulation
            ? [encapsulation.mtu, `${encapsulation.device}`]
            : [undefined, undefined];
  return {
    kind,
    underlay,
    encapsulation,
    podMtu,
    podMtuFrom,
    maxPodMtu: underlay ? underlay.mtu - (encapsulation?.overhead ?? 0) : undefined,
    podRoutes,
  };
}

export function nodeFacts(input: FactsInput): NodeFacts {
  const sections = input.inspected;
  const interfaces = parseIpAddr(okOutput(sections, 'ip-addr'));
  const routes = parseIpRoute(okOutput(sections, 'ip-route'));
  const counters = parseCounters(sections.get('counters')?.output ?? '');
  const iptables = iptablesFacts(counters);
  const cni = cniFacts(input.discovered.runtime, sections);
  const all = parseSysctls(sections.get('sysctl')?.output);
  const sysctls: Record<string, string> = {};
  for (const key of SYSCTL_KEYS) if (all[key] !== undefined) sysctls[key] = all[key];
  const network = networkFacts(input, interfaces, routes, cni);
  const underlayRp = network.underlay ? all[`net.ipv4.conf.${network.underlay.device}.rp_filter`] : undefined;
  if (underlayRp !== undefined) sysctls['net.ipv4.conf.<underlay>.rp_filter'] = underlayRp;
  const count = Number(all['net.netfilter.nf_conntrack_count']);
  const max = Number(all['net.netfilter.nf_conntrack_max']);
  return {
    node: input.identity.name,
    kernel: okOutput(sections, 'uname')?.trim(),
    runtime: runtimeFacts(input.identity, input.discovered, sections),
    cni,
    kubeProxy: kubeProxyFacts(
      input.discovered,
      sections,
      counters.rules,
      iptables.backend === 'legacy' ? 'iptables-legacy' : 'iptables-nft',
    ),
    iptables,
    sysctls,
    conntrack: {
      count: Number.isFinite(count) && all['net.netfilter.nf_conntrack_count'] !== undefined ? count : undefined,
      max: Number.isFinite(max) && all['net.netfilter.nf_conntrack_max'] !== undefined ? max : undefined,
      stats: parseConntrackStats(okOutput(sections, 'conntrack-stats')),
    },
    interfaces,
    counters: counters.interfaces,
    qdiscs: counters.qdiscs,
    network,
  };
}
