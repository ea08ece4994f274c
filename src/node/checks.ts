/**
 * A node's facts → findings (ids in ids.ts), and the fleet view: the same facts side by side, with the node that
 * differs from the majority named (`node.odd-one-out`). Pure; the engine gives it facts, the raw sections (evidence)
 * and what the API says (Services).
 */
import { trimOutput, type Evidence, type Finding, type MetricValue, type Status } from '../findings/model.js';
import type { NodeFacts } from './facts.js';
import { NODE_IDS, nodeSubject } from './ids.js';
import { NIC_ERROR_COUNTERS, parseCounters, type Qdisc } from './counters.js';
import { formatBits } from '../lib/units.js';
import { kubeServicesRules } from './parse.js';
import type { Sections } from './sections.js';

/** One Service port kube-proxy should have programmed: `ns/name:port` (`ns/name` for an unnamed port). */
export interface ExpectedServicePort {
  readonly key: string;
  readonly clusterIPs: readonly string[];
  /**
   * Created long enough before the node's rules were read that kube-proxy must have programmed it; a younger one is
   * neither missing nor required.
   */
  readonly settled: boolean;
}

export interface Coverage {
  /** Settled Service ports (or ClusterIPs in ipvs mode) with no rule. */
  readonly missing: readonly string[];
  /** Rules for Service ports (or ClusterIPs) the API does not have: deleted Services kube-proxy did not remove. */
  readonly stale: readonly string[];
  readonly expected: number;
}

/** What kube-proxy's rules cover against what the API has. ipvs compares ClusterIPs, the others Service ports. */
export function kubeProxyCoverage(facts: NodeFacts, services: readonly ExpectedServicePort[]): Coverage {
  const byIp = facts.kubeProxy.mode === 'ipvs';
  const wanted = new Map<string, boolean>();
  for (const service of services) {
    for (const key of byIp ? service.clusterIPs : [service.key])
      wanted.set(key, (wanted.get(key) ?? false) || service.settled);
  }
  const programmed = new Set(facts.kubeProxy.programmed);
  return {
    missing: [...wanted]
      .filter(([key, settled]) => settled && !programmed.has(key))
      .map(([key]) => key)
      .sort(),
    stale: [...programmed].filter((key) => !wanted.has(key)).sort(),
    expected: wanted.size,
  };
}

export interface NodeCheckInput {
  readonly facts: NodeFacts;
  /** The raw sections of the node's collection, for evidence. */
  readonly sections: Sections;
  readonly services: readonly ExpectedServicePort[];
  /**
   * kube-proxy runs somewhere in this cluster (on another node, or its rules are here): its absence on this node is a
   * fault, not a kube-proxy replacement.
   */
  readonly clusterUsesKubeProxy: boolean;
  /** Coverage confirmed by a second read, when the first one found gaps (see the engine); else computed here. */
  readonly coverage?: Coverage;
}

type FindingBody = Omit<Finding, 'id' | 'subject'>;

const finding = (id: string, node: string, body: FindingBody): Finding => ({ id, subject: nodeSubject(node), ...body });

const list = (items: readonly string[], max = 5): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

function sectionEvidence(
  node: string,
  sections: Sections,
  name: string,
  command: string,
  pick?: (text: string) => string,
): Evidence {
  const section = sections.get(name);
  const text = section
    ? section.status === 0
      ? section.output
      : `${section.output}${section.stderr ?? ''}`.trim()
    : '';
  return { where: `node/${node}`, command, output: trimOutput(pick ? pick(text) : text || '(nothing)') };
}

function chainText(facts: NodeFacts): string {
  const file = facts.cni.files.find((candidate) => candidate.name === facts.cni.active);
  return (file?.plugins ?? [])
    .map((plugin) => (plugin.ipam ? `${plugin.type}(${plugin.ipam})` : plugin.type))
    .join(' → ');
}

function cniConfigFinding({ facts }: NodeCheckInput): Finding {
  const { cni, node } = facts;
  const active = cni.files.find((file) => file.name === cni.active);
  const listing: Evidence = {
    where: `node/${node}`,
    command: `ls ${cni.confDir}`,
    output: cni.files.length > 0 ? cni.files.map((file) => file.name).join('\n') : '(empty)',
  };
  const evidence = active
    ? [
        listing,
        {
          where: `node/${node}`,
          command: `cat ${cni.confDir}/${active.name}`,
          output: trimOutput(active.redacted, 40),
        },
      ]
    : [listing];
  const metrics = {
    confDir: cni.confDir,
    files: cni.files.length,
    active: cni.active ?? '',
    ignored: cni.ignored.length,
  };
  if (!active) {
    return finding(NODE_IDS.cniConfig, node, {
      status: 'fail',
      summary: `no CNI config in ${cni.confDir} (from ${cni.dirsFrom}): the runtime cannot give pods a network`,
      evidence,
      hint: `install the cluster's CNI (its DaemonSet writes the config), or fix the runtime's CNI conf_dir`,
      metrics,
    });
  }
  if (!active.valid) {
    return finding(NODE_IDS.cniConfig, node, {
      status: 'fail',
      summary: `${active.name}, the config the runtime loads first, is invalid: ${active.error}`,
      evidence,
      hint: `fix or remove ${cni.confDir}/${active.name}; the runtime uses the lexically first .conf/.conflist/.json`,
      metrics,
    });
  }
  if (cni.ignored.length > 0) {
    return finding(NODE_IDS.cniConfig, node, {
      status: 'warn',
      summary: `${active.name} is used (${chainText(facts)}); ${list(cni.ignored)} ${cni.ignored.length === 1 ? 'is' : 'are'} also in ${cni.confDir} and ignored`,
      evidence,
      hint: `remove the config files of CNIs not in use from ${cni.confDir}: whichever sorts first wins, so a leftover can take over`,
      metrics,
    });
  }
  return finding(NODE_IDS.cniConfig, node, {
    status: 'pass',
    summary: `${active.name} (network ${active.networkName ?? '?'}: ${chainText(facts)}) in ${cni.confDir}`,
    evidence,
    metrics,
  });
}

function cniBinariesFinding({ facts, sections }: NodeCheckInput): Finding {
  const { cni, node } = facts;
  const evidence = [...cni.binDirs].map((dir) => sectionEvidence(node, sections, `cni-bin ${dir}`, `ls ${dir}`));
  if (cni.binaries.length === 0) {
    return finding(NODE_IDS.cniBinaries, node, {
      status: 'skip',
      summary: 'no usable CNI config, so no plugin binaries to look for',
      evidence,
    });
  }
  const missing = cni.binaries.filter((binary) => binary.dir === undefined).map((binary) => binary.type);
  const metrics = { binDirs: cni.binDirs.join(':'), plugins: cni.binaries.length, missing: missing.length };
  if (missing.length > 0) {
    return finding(NODE_IDS.cniBinaries, node, {
      status: 'fail',
      summary: `no binary for CNI plugin${missing.length === 1 ? '' : 's'} ${list(missing)} in ${cni.binDirs.join(', ')}`,
      evidence,
      hint: `install the plugins into ${cni.binDirs[0] ?? '/opt/cni/bin'} (the CNI's installer or containernetworking-plugins), or fix the runtime's bin_dir`,
      metrics,
    });
  }
  return finding(NODE_IDS.cniBinaries, node, {
    status: 'pass',
    summary: `every plugin binary is there: ${cni.binaries.map((binary) => `${binary.type} (${binary.dir})`).join(', ')}`,
    evidence,
    metrics,
  });
}

function runtimeFinding({ facts }: NodeCheckInput): Finding {
  const { runtime, node } = facts;
  const containers = runtime.containers;
  const metrics: Record<string, MetricValue> = { runtime: runtime.name, version: runtime.version ?? '' };
  if (runtime.socket) metrics['socket'] = runtime.socket;
  if (containers) metrics['containers'] = containers.containers.length;
  const evidence: Evidence[] = [
    {
      where: `node/${node}`,
      command: 'kubelet --container-runtime-endpoint / containerRuntimeEndpoint',
      output: `${runtime.endpoint ?? '(kubelet not found)'}${runtime.endpointFrom ? ` (from ${runtime.endpointFrom})` : ''}`,
    },
  ];
  if (containers) {
    evidence.push({
      where: `node/${node}`,
      command: containers.source === 'crictl' ? 'crictl ps' : `${runtime.name} state (running tasks)`,
      output: trimOutput(
        containers.containers
          .map((c) => `${c.id.slice(0, 13)}  ${c.name}  ${c.namespace}/${c.pod}  ${c.state}`)
          .join('\n') || '(none)',
      ),
    });
  }
  if (runtime.endpoint === undefined && !runtime.running) {
    return finding(NODE_IDS.runtime, node, {
      status: 'skip',
      summary:
        'neither kubelet nor a container runtime was seen in the node’s processes (is the helper pod really hostPID?)',
      evidence,
      metrics,
    });
  }
  if (!runtime.running) {
    return finding(NODE_IDS.runtime, node, {
      status: 'fail',
      summary: `kubelet talks to ${runtime.endpoint}, but no ${runtime.name === 'unknown' ? 'runtime' : runtime.name} process serves it on the node`,
      evidence,
      hint: `start the runtime (systemctl status ${runtime.name === 'cri-o' ? 'crio' : runtime.name}), or fix kubelet's containerRuntimeEndpoint`,
      metrics,
    });
  }
  const count = containers
    ? `; ${containers.containers.length} containers${containers.sandboxes !== undefined ? ` in ${containers.sandboxes} pods` : ''} (${containers.source})`
    : '';
  return finding(NODE_IDS.runtime, node, {
    status: 'pass',
    summary: `${runtime.name} ${runtime.version ?? ''} at ${runtime.socket ?? runtime.endpoint}${count}`.replace(
      / {2,}/g,
      ' ',
    ),
    evidence,
    metrics,
  });
}

function kubeProxyFinding(input: NodeCheckInput): Finding {
  const { facts, sections, services, clusterUsesKubeProxy } = input;
  const { kubeProxy, node } = facts;
  const backend = facts.iptables.backend === 'legacy' ? 'iptables-legacy' : 'iptables-nft';
  const rulesEvidence =
    kubeProxy.mode === 'nftables'
      ? sectionEvidence(node, sections, 'kube-proxy-nft-services', 'nft list map ip kube-proxy service-ips')
      : kubeProxy.mode === 'ipvs'
        ? sectionEvidence(node, sections, 'kube-ipvs0', 'ip -j addr show dev kube-ipvs0')
        : sectionEvidence(
            node,
            sections,
            'counters',
            `${backend}-save | grep -- '-A KUBE-SERVICES'`,
            (text) =>
              kubeServicesRules(parseCounters(text).rules, backend)
                .map((rule) => `${rule.table}: ${rule.rule}`)
                .join('\n') || '(no KUBE-SERVICES rules)',
          );
  const healthEvidence: Evidence = {
    where: `node/${node}`,
    command: 'curl http://<healthz>/healthz',
    output: kubeProxy.health
      ? `lastUpdated ${kubeProxy.health.lastUpdated ?? '?'}, ${kubeProxy.health.secondsSinceSync?.toFixed(0) ?? '?'} s before currentTime`
      : (kubeProxy.healthError ?? 'no kube-proxy'),
  };
  const evidence = [rulesEvidence, healthEvidence];
  if (!kubeProxy.running && kubeProxy.programmed.length === 0 && !kubeProxy.servicesChain) {
    return clusterUsesKubeProxy
      ? finding(NODE_IDS.kubeProxyRules, node, {
          status: 'fail',
          summary:
            'kube-proxy is not running here and KUBE-SERVICES is empty or missing, while other nodes run it: no ClusterIP or NodePort works from this node',
          evidence,
          hint: 'look at kube-proxy on this node (its DaemonSet pod, or its service and logs)',
          metrics: { mode: 'none', running: false },
        })
      : finding(NODE_IDS.kubeProxyRules, node, {
          status: 'skip',
          summary:
            'no kube-proxy and no KUBE-SERVICES rules: Services are handled by a replacement (Cilium, …) or not at all',
          evidence,
          metrics: { mode: 'none', running: false },
        });
  }
  const coverage = input.coverage ?? kubeProxyCoverage(facts, services);
  const what = kubeProxy.mode === 'ipvs' ? 'ClusterIPs' : 'Service ports';
  const metrics: Record<string, MetricValue> = {
    mode: kubeProxy.mode,
    running: kubeProxy.running,
    programmed: kubeProxy.programmed.length,
    expected: coverage.expected,
    missing: coverage.missing.length,
    stale: coverage.stale.length,
  };
  if (kubeProxy.health?.secondsSinceSync !== undefined)
    metrics['secondsSinceSync'] = Math.round(kubeProxy.health.secondsSinceSync);
  const problems: string[] = [];
  if (!kubeProxy.running) problems.push('kube-proxy is not running (its rules stay as they were)');
  if (kubeProxy.health?.healthy === false)
    problems.push(
      `kube-proxy reports itself unhealthy (last sync ${kubeProxy.health.secondsSinceSync?.toFixed(0) ?? '?'} s before its clock)`,
    );
  if (!kubeProxy.servicesChain)
    problems.push(
      `no Service rules (${kubeProxy.mode === 'iptables' ? 'nat KUBE-SERVICES is empty or missing' : 'nothing programmed'})`,
    );
  if (coverage.missing.length > 0)
    problems.push(`${coverage.missing.length} ${what} missing (${list(coverage.missing)})`);
  if (coverage.stale.length > 0)
    problems.push(`${coverage.stale.length} stale (${list(coverage.stale)}: deleted from the API)`);
  if (problems.length > 0) {
    return finding(NODE_IDS.kubeProxyRules, node, {
      status: 'fail',
      summary: `${kubeProxy.mode} mode: ${problems.join('; ')}`,
      evidence,
      hint: kubeProxy.running
        ? 'kube-proxy is not keeping up: read its logs on this node (sync errors, iptables lock, API connection)'
        : 'start kube-proxy on this node (its DaemonSet pod or service); Services created or changed meanwhile do not work from here',
      metrics,
    });
  }
  return finding(NODE_IDS.kubeProxyRules, node, {
    status: 'pass',
    summary: `${kubeProxy.mode} mode (${kubeProxy.modeFrom === 'metrics' ? 'kube-proxy /proxyMode' : 'its config'}): ${kubeProxy.programmed.length} ${what} programmed, all ${coverage.expected} of the API's`,
    evidence,
    metrics,
  });
}

function iptablesBackendFinding({ facts }: NodeCheckInput): Finding {
  const { iptables, node } = facts;
  const evidence: Evidence[] = [
    { where: `node/${node}`, command: 'iptables-legacy-save | grep -c -- -A', output: String(iptables.legacyRules) },
    { where: `node/${node}`, command: 'iptables-nft-save | grep -c -- -A', output: String(iptables.nftRules) },
  ];
  const metrics = { backend: iptables.backend, legacyRules: iptables.legacyRules, nftRules: iptables.nftRules };
  if (iptables.kubeChainsIn.length > 1) {
    return finding(NODE_IDS.iptablesBackend, node, {
      status: 'fail',
      summary: `KUBE-* chains in both iptables backends (legacy: ${iptables.legacyRules} rules, nft: ${iptables.nftRules}): one set is stale, and packets go through both`,
      evidence,
      hint: 'make every tool on the node use one backend (update-alternatives --set iptables …), then flush the other one',
      metrics,
    });
  }
  if (iptables.legacyRules > 0 && iptables.nftRules > 0) {
    return finding(NODE_IDS.iptablesBackend, node, {
      status: 'warn',
      summary: `both iptables backends hold rules (legacy: ${iptables.legacyRules}, nft: ${iptables.nftRules}); ${iptables.backend} holds kube-proxy's: a tool on the other one is invisible to it (the mixed-backend trap behind CoreDNS "loop" reports)`,
      evidence,
      hint: 'find which tool writes the other backend (iptables -V shows each binary’s) and move it to the one kube-proxy uses',
      metrics,
    });
  }
  return finding(NODE_IDS.iptablesBackend, node, {
    status: 'pass',
    summary:
      iptables.backend === 'none'
        ? 'no iptables rules in either backend'
        : `${iptables.backend} (${iptables.backend === 'nft' ? iptables.nftRules : iptables.legacyRules} rules); the ${iptables.backend === 'nft' ? 'legacy' : 'nft'} backend is empty`,
    evidence,
    metrics,
  });
}

/** Local ports the kernel may pick that fall into the NodePort range (30000-32767) collide with NodePorts. */
const NODEPORT_RANGE: readonly [number, number] = [30000, 32767];

function sysctlFinding({ facts, sections }: NodeCheckInput): Finding {
  const { sysctls, node } = facts;
  const evidence = [
    sectionEvidence(node, sections, 'sysctl', 'grep -H . /proc/sys/net/…', (text) =>
      text
        .split('\n')
        .filter(
          (line) =>
            !/\/conf\/[^/]+\/rp_filter:/.test(line) ||
            /\/conf\/(all|default)\//.test(line) ||
            (facts.network.underlay && line.includes(`/conf/${facts.network.underlay.device}/`)),
        )
        .join('\n'),
    ),
  ];
  const usesBridge =
    facts.cni.files
      .find((file) => file.name === facts.cni.active)
      ?.plugins.some((plugin) => plugin.type === 'bridge') ?? false;
  const fails: string[] = [];
  const warns: string[] = [];
  const hints: string[] = [];
  if (sysctls['net.ipv4.ip_forward'] !== '1') {
    fails.push(`net.ipv4.ip_forward = ${sysctls['net.ipv4.ip_forward'] ?? '?'}: the node does not route pod traffic`);
    hints.push('sysctl -w net.ipv4.ip_forward=1 (and persist it in /etc/sysctl.d)');
  }
  const bridgeNf = sysctls['net.bridge.bridge-nf-call-iptables'];
  if (usesBridge && bridgeNf === '0') {
    fails.push(
      'net.bridge.bridge-nf-call-iptables = 0 with a bridge CNI: Service traffic between pods on this node skips kube-proxy',
    );
    hints.push('sysctl -w net.bridge.bridge-nf-call-iptables=1');
  } else if (usesBridge && bridgeNf === undefined) {
    warns.push('br_netfilter is not loaded (no net.bridge.bridge-nf-call-iptables) with a bridge CNI');
    hints.push('modprobe br_netfilter and set net.bridge.bridge-nf-call-iptables=1');
  }
  const strict = ['net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.<underlay>.rp_filter'].filter(
    (key) => sysctls[key] === '1',
  );
  if (strict.length > 0 && facts.network.kind === 'overlay') {
    warns.push(
      `strict reverse-path filtering (${strict.join(', ')} = 1) on an overlay node drops asymmetrically routed pod traffic`,
    );
    hints.push('use loose mode: sysctl -w net.ipv4.conf.all.rp_filter=2');
  }
  const range = sysctls['net.ipv4.ip_local_port_range']?.split(' ').map(Number);
  if (range && range.length === 2 && (range[0] ?? 0) <= NODEPORT_RANGE[1] && (range[1] ?? 0) >= NODEPORT_RANGE[0]) {
    warns.push(
      `net.ipv4.ip_local_port_range ${range.join('-')} overlaps the NodePort range ${NODEPORT_RANGE.join('-')}`,
    );
    hints.push('move the ephemeral range above 32767 (sysctl -w net.ipv4.ip_local_port_range="32768 60999")');
  }
  const metrics: Record<string, MetricValue> = { ...sysctls };
  const status: Status = fails.length > 0 ? 'fail' : warns.length > 0 ? 'warn' : 'pass';
  return finding(NODE_IDS.sysctl, node, {
    status,
    summary:
      status === 'pass'
        ? `ip_forward 1, bridge-nf-call-iptables ${bridgeNf ?? 'n/a'}, rp_filter ${sysctls['net.ipv4.conf.all.rp_filter'] ?? '?'}, ephemeral ports ${sysctls['net.ipv4.ip_local_port_range']?.replace(' ', '-') ?? '?'}`
        : [...fails, ...warns].join('; '),
    evidence,
    hint: hints.length > 0 ? hints.join('; ') : undefined,
    metrics,
  });
}

/** conntrack table use that deserves a look, and that drops new connections soon. */
const CONNTRACK_WARN = 0.75;
const CONNTRACK_FAIL = 0.9;

function conntrackFinding({ facts, sections }: NodeCheckInput): Finding {
  const { conntrack, node } = facts;
  const evidence = [
    sectionEvidence(node, sections, 'sysctl', 'cat /proc/sys/net/netfilter/nf_conntrack_{count,max}', (text) =>
      text
        .split('\n')
        .filter((line) => line.includes('nf_conntrack_'))
        .join('\n'),
    ),
    sectionEvidence(node, sections, 'conntrack-stats', 'conntrack -S'),
  ];
  const metrics: Record<string, MetricValue> = { ...conntrack.stats };
  if (conntrack.count === undefined || conntrack.max === undefined || conntrack.max === 0) {
    return finding(NODE_IDS.conntrack, node, {
      status: 'skip',
      summary: 'no conntrack table in the node’s network namespace',
      evidence,
      metrics,
    });
  }
  metrics['count'] = conntrack.count;
  metrics['max'] = conntrack.max;
  const use = conntrack.count / conntrack.max;
  const dropped = (conntrack.stats['drop'] ?? 0) + (conntrack.stats['early_drop'] ?? 0);
  const insertFailed = conntrack.stats['insert_failed'] ?? 0;
  const usage = `${conntrack.count} of ${conntrack.max} entries (${(use * 100).toFixed(1)} %)`;
  if (use >= CONNTRACK_FAIL) {
    return finding(NODE_IDS.conntrack, node, {
      status: 'fail',
      summary: `conntrack table nearly full: ${usage}; new connections are dropped once it is`,
      evidence,
      hint: 'raise net.netfilter.nf_conntrack_max (kube-proxy: conntrack.maxPerCore) or find what opens so many connections',
      metrics,
    });
  }
  const notes = [
    ...(use >= CONNTRACK_WARN ? [`table ${(use * 100).toFixed(0)} % full`] : []),
    ...(dropped > 0 ? [`${dropped} packets dropped for want of an entry`] : []),
    ...(insertFailed > 0 ? [`${insertFailed} insert_failed (the race behind 5-second DNS lookups)`] : []),
  ];
  if (notes.length > 0) {
    return finding(NODE_IDS.conntrack, node, {
      status: 'warn',
      summary: `${usage}; ${notes.join('; ')}`,
      evidence,
      hint: 'counters are since boot: run again to see whether they grow; for DNS, nodelocaldns or single-request-reopen avoid the race',
      metrics,
    });
  }
  return finding(NODE_IDS.conntrack, node, { status: 'pass', summary: usage, evidence, metrics });
}

function mtuFinding({ facts }: NodeCheckInput): Finding {
  const { network, node } = facts;
  const evidence: Evidence[] = [
    {
      where: `node/${node}`,
      command: 'ip -j -d addr show',
      output: trimOutput(
        facts.interfaces
          .filter((i) => i.kind !== 'veth')
          .map(
            (i) =>
              `${i.name} ${i.kind} mtu ${i.mtu} ${i.state}${i.addresses.length ? ` ${i.addresses.join(' ')}` : ''}`,
          )
          .join('\n'),
      ),
    },
  ];
  const metrics: Record<string, MetricValue> = { network: network.kind };
  if (network.underlay) metrics['underlayMtu'] = network.underlay.mtu;
  if (network.podMtu !== undefined) metrics['podMtu'] = network.podMtu;
  if (network.encapsulation) {
    metrics['encapsulation'] = network.encapsulation.kind;
    metrics['overhead'] = network.encapsulation.overhead;
  }
  if (network.maxPodMtu !== undefined) metrics['maxPodMtu'] = network.maxPodMtu;
  if (!network.underlay) {
    return finding(NODE_IDS.interfaceMtu, node, {
      status: 'skip',
      summary: 'the node’s InternalIP is on none of its interfaces: no underlay to compare the pod MTU with',
      evidence,
      metrics,
    });
  }
  const shape = network.encapsulation
    ? `overlay (${network.encapsulation.kind} on ${network.encapsulation.device}, ${network.encapsulation.overhead} bytes) over ${network.underlay.device} MTU ${network.underlay.mtu}`
    : `flat over ${network.underlay.device} MTU ${network.underlay.mtu}`;
  if (network.podMtu === undefined) {
    return finding(NODE_IDS.interfaceMtu, node, {
      status: 'skip',
      summary: `${shape}; no pod interface or CNI mtu to read the pod MTU from`,
      evidence,
      metrics,
    });
  }
  if (network.maxPodMtu !== undefined && network.podMtu > network.maxPodMtu) {
    return finding(NODE_IDS.interfaceMtu, node, {
      status: 'fail',
      summary: `pods get MTU ${network.podMtu} (${network.podMtuFrom}) but the path carries at most ${network.maxPodMtu}: ${shape} — an MTU black hole for large packets`,
      evidence,
      hint: `set the CNI's MTU to ${network.maxPodMtu} or less, or give ${network.underlay.device} the MTU the rest of the network has`,
      metrics,
    });
  }
  return finding(NODE_IDS.interfaceMtu, node, {
    status: 'pass',
    summary: `${shape}; pods MTU ${network.podMtu} (${network.podMtuFrom}), at most ${network.maxPodMtu} fits`,
    evidence,
    metrics,
  });
}

/** A root qdisc that holds an interface to a rate (tbf), or undefined. */
const rateLimit = (facts: NodeFacts, device: string | undefined): RateLimitedQdisc | undefined =>
  facts.qdiscs.find(
    (qdisc): qdisc is RateLimitedQdisc =>
      qdisc.device === device && qdisc.root && qdisc.rateBitsPerSecond !== undefined,
  );

type RateLimitedQdisc = Qdisc & { readonly rateBitsPerSecond: number };

const describeQdisc = (qdisc: Qdisc): string =>
  `${qdisc.device} ${qdisc.root ? 'root ' : ''}${qdisc.kind}${qdisc.rateBitsPerSecond !== undefined ? ` rate ${formatBits(qdisc.rateBitsPerSecond)}` : ''}: sent ${qdisc.bytes} bytes, dropped ${qdisc.drops}, overlimits ${qdisc.overlimits}`;

/**
 * A rate limit on the underlay caps every pod and node connection of the node, and no error counter shows it: a
 * warning. Limits on other interfaces (pod veths: the CNI bandwidth plugin's annotations) are listed, not judged.
 */
function rateLimitFinding({ facts }: NodeCheckInput): Finding {
  const { node } = facts;
  const evidence: Evidence[] = [
    {
      where: `node/${node}`,
      command: 'tc -s -j qdisc show',
      output: trimOutput(facts.qdiscs.map(describeQdisc).join('\n') || '(nothing)'),
    },
  ];
  if (facts.qdiscs.length === 0) {
    return finding(NODE_IDS.interfaceRateLimit, node, {
      status: 'skip',
      summary: 'no queueing disciplines were read (tc printed nothing)',
      evidence,
    });
  }
  const device = facts.network.underlay?.device;
  const others = facts.qdiscs.filter(
    (qdisc) => qdisc.device !== device && qdisc.rateBitsPerSecond !== undefined && qdisc.root,
  );
  const otherText =
    others.length > 0
      ? `; ${others.length} other interface(s) limited: ${list(others.map((qdisc) => `${qdisc.device} ${formatBits(qdisc.rateBitsPerSecond ?? 0)}`))}`
      : '';
  const limit = rateLimit(facts, device);
  if (device && limit) {
    return finding(NODE_IDS.interfaceRateLimit, node, {
      status: 'warn',
      summary: `${device} (the underlay) is limited to ${formatBits(limit.rateBitsPerSecond)} by a ${limit.kind} qdisc: every connection of the node's pods through it shares that rate${otherText}`,
      evidence,
      hint: `a configured limit, not a fault: if it is not meant to be there, remove it (tc qdisc del dev ${device} root) on the node`,
      metrics: { device, rateBitsPerSecond: limit.rateBitsPerSecond, kind: limit.kind },
    });
  }
  const root = facts.qdiscs.find((qdisc) => qdisc.device === device && qdisc.root);
  return finding(NODE_IDS.interfaceRateLimit, node, {
    status: 'pass',
    summary: `${device ? `${device} (the underlay): ${root ? root.kind : 'no root qdisc'}, no rate limit` : 'no underlay interface known'}${otherText}`,
    evidence,
  });
}

function podRoutesFinding({ facts }: NodeCheckInput): Finding {
  const { network, node } = facts;
  const evidence: Evidence[] = [
    {
      where: `node/${node}`,
      command: 'ip -j -d route show table all',
      output: trimOutput(
        network.podRoutes
          .map(
            (route) =>
              `${route.cidr} (${route.node}): ${route.kind === 'none' ? 'no route' : `${route.kind === 'default' ? 'default route ' : ''}via ${route.gateway ?? 'direct'} dev ${route.dev ?? '?'}${route.deviceDown ? ' (DOWN)' : ''}`}`,
          )
          .join('\n') || '(no other node has a pod CIDR)',
      ),
    },
  ];
  const none = network.podRoutes.filter((route) => route.kind === 'none' || route.deviceDown);
  const viaDefault = network.podRoutes.filter((route) => route.kind === 'default');
  const specific = network.podRoutes.filter((route) => route.kind === 'specific');
  const metrics = {
    routes: network.podRoutes.length,
    specific: specific.length,
    default: viaDefault.length,
    none: none.length,
  };
  if (network.podRoutes.length === 0) {
    return finding(NODE_IDS.podRoutes, node, {
      status: 'skip',
      summary: 'no other node has a pod CIDR in the API',
      evidence,
      metrics,
    });
  }
  if (none.length > 0) {
    return finding(NODE_IDS.podRoutes, node, {
      status: 'fail',
      summary: `no usable route to the pods of ${list(none.map((route) => `${route.node} (${route.cidr})`))}`,
      evidence,
      hint: 'the CNI programs these routes: look at its agent on this node',
      metrics,
    });
  }
  if (viaDefault.length > 0 && specific.length > 0) {
    return finding(NODE_IDS.podRoutes, node, {
      status: 'warn',
      summary: `pod CIDRs of ${list(viaDefault.map((route) => route.node))} only through the default route, while ${specific.length} others have their own route`,
      evidence,
      hint: 'a route the CNI should have programmed is missing: look at its agent on this node',
      metrics,
    });
  }
  return finding(NODE_IDS.podRoutes, node, {
    status: 'pass',
    summary:
      viaDefault.length > 0
        ? `the other nodes' pod CIDRs through the default route (the network beyond routes them)`
        : `a route to each of the ${specific.length} other pod CIDRs`,
    evidence,
    metrics,
  });
}

/** Counters that mean frames damaged on the wire or lost by the NIC: the physical layer, not a busy host. */
const PHYSICAL_ERRORS = [
  'rx_crc_errors',
  'rx_frame_errors',
  'rx_length_errors',
  'rx_missed_errors',
  'tx_carrier_errors',
];
/** rx_dropped/tx_dropped also count what nobody listens to (IPv6 multicast on a veth): evidence, not a warning. */
const ORDINARY_DROPS = ['rx_dropped', 'tx_dropped'];

function interfaceErrorsFinding({ facts, sections }: NodeCheckInput): Finding {
  const { node } = facts;
  const evidence = [
    sectionEvidence(
      node,
      sections,
      'counters',
      'grep -H . /sys/class/net/*/statistics/*',
      (text) =>
        text
          .split('\n')
          .filter(
            (line) => /\/statistics\/\w+:[1-9]/.test(line) && NIC_ERROR_COUNTERS.some((c) => line.includes(`/${c}:`)),
          )
          .join('\n') || '(every error and drop counter is 0)',
    ),
  ];
  const bad: string[] = [];
  const damaged: string[] = [];
  const totals: Record<string, number> = {};
  for (const { name, statistics } of facts.counters) {
    const seen = NIC_ERROR_COUNTERS.filter(
      (counter) => !ORDINARY_DROPS.includes(counter) && (statistics[counter] ?? 0) > 0,
    );
    for (const counter of NIC_ERROR_COUNTERS) totals[counter] = (totals[counter] ?? 0) + (statistics[counter] ?? 0);
    if (seen.length > 0) bad.push(`${name}: ${seen.map((counter) => `${counter} ${statistics[counter]}`).join(', ')}`);
    if (PHYSICAL_ERRORS.some((counter) => (statistics[counter] ?? 0) > 0)) damaged.push(name);
  }
  const metrics = { interfaces: facts.counters.length, ...totals };
  if (facts.counters.length === 0) {
    return finding(NODE_IDS.interfaceErrors, node, {
      status: 'skip',
      summary: 'no interface statistics were read',
      evidence,
    });
  }
  if (damaged.length > 0) {
    return finding(NODE_IDS.interfaceErrors, node, {
      status: 'fail',
      summary: `damaged frames on ${list(damaged)} (${bad.join('; ')})`,
      evidence,
      hint: 'CRC, frame and carrier errors are physical: check the cable, transceiver, switch port or NIC driver',
      metrics,
    });
  }
  if (bad.length > 0) {
    return finding(NODE_IDS.interfaceErrors, node, {
      status: 'warn',
      summary: `interface errors: ${bad.join('; ')}`,
      evidence,
      hint: 'the counters are since the interface came up: run again (or kubectl netdiag bw) to see whether they grow',
      metrics,
    });
  }
  return finding(NODE_IDS.interfaceErrors, node, {
    status: 'pass',
    summary: `no errors on ${facts.counters.length} interfaces (drops: rx ${totals['rx_dropped'] ?? 0}, tx ${totals['tx_dropped'] ?? 0})`,
    evidence,
    metrics,
  });
}

/** Every finding about one node. */
export function nodeFindings(input: NodeCheckInput): Finding[] {
  return [
    cniConfigFinding(input),
    cniBinariesFinding(input),
    runtimeFinding(input),
    kubeProxyFinding(input),
    iptablesBackendFinding(input),
    sysctlFinding(input),
    conntrackFinding(input),
    interfaceErrorsFinding(input),
    mtuFinding(input),
    rateLimitFinding(input),
    podRoutesFinding(input),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// the fleet view

export interface FleetRow {
  readonly fact: string;
  /** node → value as shown. */
  readonly values: Readonly<Record<string, string>>;
  /** Compared across nodes for the odd one out (the others are shown only). */
  readonly compared: boolean;
  /** The value most nodes have, when more than half share one. */
  readonly majority?: string;
  /** Nodes whose value differs from the majority. */
  readonly odd: readonly string[];
}

interface FactDefinition {
  readonly fact: string;
  readonly compared: boolean;
  value(facts: NodeFacts): string | undefined;
}

const show = (value: string | number | undefined): string | undefined =>
  value === undefined ? undefined : String(value);

/** The facts side by side, in the order the table shows them; the compared ones decide the odd one out. */
const FLEET_FACTS: readonly FactDefinition[] = [
  { fact: 'runtime', compared: false, value: (f) => `${f.runtime.name} ${f.runtime.version ?? ''}`.trim() },
  { fact: 'containers', compared: false, value: (f) => show(f.runtime.containers?.containers.length) },
  {
    fact: 'CNI config',
    compared: true,
    value: (f) => (f.cni.files.length > 0 ? f.cni.files.map((file) => file.name).join(', ') : 'none'),
  },
  { fact: 'CNI chain', compared: true, value: (f) => chainText(f) || undefined },
  {
    fact: 'CNI binaries',
    compared: false,
    value: (f) => {
      const missing = f.cni.binaries.filter((binary) => binary.dir === undefined).map((binary) => binary.type);
      return missing.length > 0 ? `missing ${missing.join(', ')}` : f.cni.binaries.length > 0 ? 'ok' : undefined;
    },
  },
  {
    fact: 'network',
    compared: true,
    value: (f) => (f.network.encapsulation ? `overlay ${f.network.encapsulation.kind}` : f.network.kind),
  },
  { fact: 'underlay MTU', compared: true, value: (f) => show(f.network.underlay?.mtu) },
  { fact: 'pod MTU', compared: true, value: (f) => show(f.network.podMtu) },
  {
    fact: 'underlay rate limit',
    compared: true,
    value: (f) => {
      if (f.qdiscs.length === 0 || !f.network.underlay) return undefined;
      const limit = rateLimit(f, f.network.underlay.device);
      return limit ? `${formatBits(limit.rateBitsPerSecond)} (${limit.kind})` : 'none';
    },
  },
  { fact: 'kube-proxy mode', compared: true, value: (f) => f.kubeProxy.mode },
  { fact: 'kube-proxy rules', compared: false, value: (f) => show(f.kubeProxy.programmed.length) },
  { fact: 'iptables backend', compared: true, value: (f) => f.iptables.backend },
  { fact: 'ip_forward', compared: true, value: (f) => f.sysctls['net.ipv4.ip_forward'] },
  {
    fact: 'bridge-nf-call-iptables',
    compared: true,
    value: (f) => f.sysctls['net.bridge.bridge-nf-call-iptables'] ?? 'n/a',
  },
  { fact: 'rp_filter (all)', compared: true, value: (f) => f.sysctls['net.ipv4.conf.all.rp_filter'] },
  { fact: 'rp_filter (default)', compared: true, value: (f) => f.sysctls['net.ipv4.conf.default.rp_filter'] },
  { fact: 'rp_filter (underlay)', compared: true, value: (f) => f.sysctls['net.ipv4.conf.<underlay>.rp_filter'] },
  {
    fact: 'ephemeral ports',
    compared: true,
    value: (f) => f.sysctls['net.ipv4.ip_local_port_range']?.replace(' ', '-'),
  },
  {
    fact: 'conntrack',
    compared: false,
    value: (f) => (f.conntrack.max ? `${f.conntrack.count ?? '?'}/${f.conntrack.max}` : undefined),
  },
  { fact: 'kernel', compared: false, value: (f) => f.kernel },
];

/** Rows of the fleet view; a compared fact's odd nodes are those differing from a strict majority (> half). */
export function fleetRows(fleet: readonly NodeFacts[]): FleetRow[] {
  return FLEET_FACTS.map((definition) => {
    const values: Record<string, string> = {};
    for (const facts of fleet) {
      const value = definition.value(facts);
      if (value !== undefined) values[facts.node] = value;
    }
    const counts = new Map<string, number>();
    for (const value of Object.values(values)) counts.set(value, (counts.get(value) ?? 0) + 1);
    const [top, topCount] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [undefined, 0];
    const known = Object.keys(values).length;
    const majority = top !== undefined && topCount * 2 > known ? top : undefined;
    const odd =
      definition.compared && majority !== undefined && known >= 3
        ? Object.entries(values)
            .filter(([, value]) => value !== majority)
            .map(([node]) => node)
        : [];
    return { fact: definition.fact, values, compared: definition.compared, majority, odd };
  });
}

/** One `node.odd-one-out` warning per node that differs from the majority, or a pass for the cluster. */
export function oddOneOutFindings(fleet: readonly NodeFacts[], rows: readonly FleetRow[]): Finding[] {
  const compared = rows.filter((row) => row.compared);
  if (fleet.length < 3) {
    return [
      {
        id: NODE_IDS.oddOneOut,
        subject: 'cluster',
        status: 'skip',
        summary: `${fleet.length} node${fleet.length === 1 ? '' : 's'} inspected: an odd one out needs at least 3`,
        evidence: [],
      },
    ];
  }
  const findings: Finding[] = [];
  for (const facts of fleet) {
    const differs = compared.filter((row) => row.odd.includes(facts.node));
    if (differs.length === 0) continue;
    const metrics: Record<string, MetricValue> = {};
    for (const row of differs) {
      metrics[row.fact] = row.values[facts.node] ?? '';
      metrics[`${row.fact} (majority)`] = row.majority ?? '';
    }
    findings.push({
      id: NODE_IDS.oddOneOut,
      subject: nodeSubject(facts.node),
      status: 'warn',
      summary: `differs from the other nodes: ${differs.map((row) => `${row.fact} ${row.values[facts.node]} (others ${row.majority})`).join('; ')}`,
      evidence: differs.map((row) => ({
        where: 'cluster',
        command: row.fact,
        output: Object.entries(row.values)
          .map(([node, value]) => `${node}: ${value}`)
          .join('\n'),
      })),
      hint: 'a node set up unlike the others is the first suspect when only some pods or nodes have trouble',
      metrics,
    });
  }
  if (findings.length > 0) return findings;
  return [
    {
      id: NODE_IDS.oddOneOut,
      subject: 'cluster',
      status: 'pass',
      summary: `the ${fleet.length} nodes agree on ${compared.map((row) => row.fact).join(', ')}`,
      evidence: [],
    },
  ];
}

/** kube-proxy runs in this cluster if any inspected node runs it or holds its rules. */
export const clusterUsesKubeProxy = (fleet: readonly NodeFacts[]): boolean =>
  fleet.some((facts) => facts.kubeProxy.running || facts.kubeProxy.servicesChain);
