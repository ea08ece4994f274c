/**
 * Doctor's correlation rules: findings from every command in, diagnoses (the cause, where, the findings that show it,
 * what to run next) out. Pure. The rules run in a fixed order and each claims the findings it explains, so a later,
 * vaguer rule does not name a second cause for the same symptom (one node's failing DNS is kube-proxy's when its
 * ClusterIPs fail too, not the DNS cache's). Whatever no rule claims stays listed as it is (`unexplained`).
 *
 * Finding ids are the team catalogue's (docs/doctor.md lists what each rule reads).
 */
import { type Finding, type MetricValue } from '../findings/model.js';
import { BW_IDS } from '../bw/ids.js';
import { CHECK_IDS } from '../check/ids.js';
import { DnsIds } from '../dns/ids.js';
import { DoctorIds, type DiagnosisId } from './ids.js';
import { formatBits } from '../lib/units.js';

/** error: something is broken (a supporting finding failed); warning: degraded or worth a look. */
export type Severity = 'error' | 'warning';

/** A finding a diagnosis rests on, by its id and subject (unique within one run). */
export interface FindingRef {
  readonly id: string;
  readonly subject: string;
}

export interface Diagnosis {
  readonly id: DiagnosisId;
  readonly severity: Severity;
  /** `node/<node>`, `<node>→<node>` (the two ends of a path, by name) or `cluster`, like a finding's. */
  readonly subject: string;
  /** One sentence naming the cause and what shows it. */
  readonly cause: string;
  readonly nodes: readonly string[];
  /** Directed pairs `<from>→<to>` whose findings support the diagnosis. */
  readonly pairs: readonly string[];
  readonly supporting: readonly FindingRef[];
  /** The command that looks closer. */
  readonly next: string;
}

export interface Correlation {
  readonly diagnoses: readonly Diagnosis[];
  /** Failing and warning findings no rule explains, as they are. */
  readonly unexplained: readonly Finding[];
}

/**
 * The findings the rules read (the catalogue's ids): dns's, check's and bw's from their constants; node's as the
 * catalogue spells them until its ids.ts lands.
 */
const Ids = {
  lookupCluster: DnsIds.lookupCluster,
  lookupExternal: DnsIds.lookupExternal,
  hopNodeLocal: DnsIds.hopNodeLocal,
  hopClusterIp: DnsIds.hopClusterIp,
  hopUpstream: DnsIds.hopUpstream,
  hopCorednsPod: DnsIds.hopCorednsPod,
  latency: DnsIds.latency,
  clusterCoredns: DnsIds.clusterCoredns,
  causeNodeLocal: DnsIds.causeNodeLocal,
  causeCoredns: DnsIds.causeCoredns,
  causeUpstream: DnsIds.causeUpstream,
  causeKubeProxy: DnsIds.causeKubeProxy,
  causeSlow: DnsIds.causeSlow,
  causePodNetwork: DnsIds.causePodNetwork,
  podPod: CHECK_IDS.podToPod,
  podNode: CHECK_IDS.podToNode,
  podIp: CHECK_IDS.podIP,
  clusterIp: CHECK_IDS.clusterIP,
  nodePort: CHECK_IDS.nodePort,
  serviceName: CHECK_IDS.serviceName,
  http: CHECK_IDS.http,
  mtu: CHECK_IDS.mtu,
  externalTcp: CHECK_IDS.externalTcp,
  externalUdp: CHECK_IDS.externalUdp,
  externalHttp: CHECK_IDS.externalHttp,
  externalPing: CHECK_IDS.externalPing,
  kubernetesService: CHECK_IDS.kubernetesService,
  serviceEndpoints: CHECK_IDS.serviceEndpoints,
  kubeProxyRules: 'node.kube-proxy.rules',
  interfaceErrors: 'node.interface.errors',
  interfaceMtu: 'node.interface.mtu',
  interfaceRateLimit: 'node.interface.rate-limit',
  oddOneOut: 'node.odd-one-out',
  bwOutlier: BW_IDS.outlier,
  bwRetransmits: BW_IDS.retransmits,
  bwUdpLoss: BW_IDS.udpLoss,
  bwPair: BW_IDS.pair,
} as const;

const EXTERNAL: readonly string[] = [Ids.externalTcp, Ids.externalUdp, Ids.externalHttp, Ids.externalPing];
/** Probes of the pod network itself, pod to pod and pod to node. */
export const POD_PATH: readonly string[] = [Ids.podPod, Ids.podIp, Ids.podNode];
/** Service-path probes that fail from a node when its kube-proxy rules are gone, and not for a DNS problem. */
const SERVICE_PROBES: readonly string[] = [Ids.clusterIp, Ids.nodePort, Ids.kubernetesService, Ids.causeKubeProxy];
/** With them, what the node itself says of kube-proxy: supporting, but not a diagnosis alone (traffic may still flow). */
const SERVICE_PATH: readonly string[] = [...SERVICE_PROBES, Ids.kubeProxyRules];

export const CLUSTER = 'cluster';
export const nodeSubject = (node: string): string => `node/${node}`;
export const pairSubject = (from: string, to: string): string => `${from}→${to}`;

type Where = { kind: 'node'; node: string } | { kind: 'pair'; from: string; to: string } | { kind: 'cluster' };

/** What a subject is about: `node/<node>`, `<from>→<to>`, anything else the cluster. */
export function parseSubject(subject: string): Where {
  if (subject.startsWith('node/')) return { kind: 'node', node: subject.slice('node/'.length) };
  const arrow = subject.indexOf('→');
  if (arrow > 0) return { kind: 'pair', from: subject.slice(0, arrow), to: subject.slice(arrow + 1) };
  return { kind: 'cluster' };
}

const byName = (a: string, b: string): number => a.localeCompare(b, undefined, { numeric: true });
const unique = (values: Iterable<string>): string[] => [...new Set(values)].sort(byName);
const isProblem = (finding: Finding): boolean => finding.status === 'fail' || finding.status === 'warn';
const metric = (finding: Finding, key: string): MetricValue | undefined => finding.metrics?.[key];
const refOf = (finding: Finding): FindingRef => ({ id: finding.id, subject: finding.subject });
/** A failure's reason (`refused`, `timeout`, `unresolved`, ...), as the check findings carry it. */
const reason = (finding: Finding): string => String(metric(finding, 'reason') ?? '');
/** A flagged measurement's cause (`nic-errors`, `firewall`, `mtu`, `none`), as bw findings carry it. */
const measuredCause = (finding: Finding): string => String(metric(finding, 'cause') ?? '');

/** The nodes a subject names: one for a node, both ends (from first) for a pair, none for the cluster. */
function subjectNodes(subject: string): string[] {
  const where = parseSubject(subject);
  if (where.kind === 'node') return [where.node];
  if (where.kind === 'pair') return [where.from, where.to];
  return [];
}
const nodesOf = (finding: Finding): string[] => subjectNodes(finding.subject);

/** The findings of one run, and which of them a rule has explained already. */
class Evidence {
  private readonly claimed = new Set<Finding>();
  readonly problems: readonly Finding[];
  readonly all: readonly Finding[];

  constructor(findings: readonly Finding[]) {
    this.all = findings;
    this.problems = findings.filter(isProblem);
  }

  /** Unclaimed problems with one of `ids`, optionally narrowed. */
  open(ids: readonly string[], where: (finding: Finding) => boolean = () => true): Finding[] {
    return this.problems.filter((f) => !this.claimed.has(f) && ids.includes(f.id) && where(f));
  }

  /** Every problem (claimed or not) with one of `ids` about `node`. */
  onNode(node: string, ids: readonly string[]): Finding[] {
    return this.problems.filter((f) => ids.includes(f.id) && f.subject === nodeSubject(node));
  }

  /** Nodes that have any finding (pass or not) with one of `ids`: where that check ran. */
  nodesChecked(ids: readonly string[]): string[] {
    return unique(this.all.filter((f) => ids.includes(f.id)).flatMap(nodesOf));
  }

  claim(findings: Iterable<Finding>): void {
    for (const finding of findings) this.claimed.add(finding);
  }

  unexplained(): Finding[] {
    return this.problems.filter((f) => !this.claimed.has(f));
  }
}

interface Draft {
  readonly id: DiagnosisId;
  readonly subject: string;
  readonly cause: string;
  readonly next: string;
  readonly findings: readonly Finding[];
  readonly nodes?: readonly string[];
}

/** Severity from what supports it; nodes and pairs from the findings' subjects. */
function diagnose(evidence: Evidence, draft: Draft): Diagnosis {
  evidence.claim(draft.findings);
  const pairs = unique(draft.findings.map((f) => f.subject).filter((s) => parseSubject(s).kind === 'pair'));
  const named = subjectNodes(draft.subject);
  return {
    id: draft.id,
    severity: draft.findings.some((f) => f.status === 'fail') ? 'error' : 'warning',
    subject: draft.subject,
    cause: draft.cause,
    nodes: unique(draft.nodes ?? (named.length > 0 ? named : draft.findings.flatMap(nodesOf))),
    pairs,
    supporting: draft.findings.map(refOf),
    next: draft.next,
  };
}

/** A set of pair (and node) findings localised: to one node when it is in every pair of a group, else the path. */
interface Located {
  readonly subject: string;
  readonly nodes: readonly string[];
  readonly findings: readonly Finding[];
}

/**
 * Localises pair findings: a node in two or more distinct failing paths is the common end (all its paths go to it),
 * greedily by how many paths it is in; a path left over is named by its two ends. A finding's `metrics.causeNode`
 * (the node whose counters moved) wins over the geometry. Node findings join their node's group.
 */
export function localise(findings: readonly Finding[]): Located[] {
  const groups = new Map<string, { nodes: string[]; findings: Finding[] }>();
  const add = (subject: string, nodes: string[], finding: Finding) => {
    const group = groups.get(subject) ?? { nodes, findings: [] };
    group.findings.push(finding);
    groups.set(subject, group);
  };
  const paths: { key: string; ends: [string, string]; finding: Finding }[] = [];
  for (const finding of findings) {
    const where = parseSubject(finding.subject);
    const causeNode = metric(finding, 'causeNode');
    if (typeof causeNode === 'string' && causeNode) add(nodeSubject(causeNode), [causeNode], finding);
    else if (where.kind === 'node') add(finding.subject, [where.node], finding);
    else if (where.kind === 'pair' && where.from !== where.to) {
      const ends = [where.from, where.to].sort(byName) as [string, string];
      paths.push({ key: pairSubject(...ends), ends, finding });
    } else add(CLUSTER, [], finding);
  }
  let left = paths;
  for (;;) {
    const degree = new Map<string, Set<string>>();
    for (const path of left) for (const end of path.ends) degree.set(end, (degree.get(end) ?? new Set()).add(path.key));
    const [hub] = [...degree.entries()]
      .filter(([node, keys]) => keys.size >= 2 || groups.has(nodeSubject(node)))
      .sort(([a, ka], [b, kb]) => kb.size - ka.size || byName(a, b));
    if (!hub) break;
    const [node] = hub;
    for (const path of left.filter((p) => p.ends.includes(node))) add(nodeSubject(node), [node], path.finding);
    left = left.filter((p) => !p.ends.includes(node));
  }
  for (const path of left) add(path.key, [...path.ends], path.finding);
  return [...groups.entries()]
    .map(([subject, group]) => ({ subject, nodes: group.nodes, findings: group.findings }))
    .sort((a, b) => byName(a.subject, b.subject));
}

const describeNodes = (nodes: readonly string[]): string => nodes.join(', ');
const idsIn = (findings: readonly Finding[]): string =>
  unique(findings.map((f) => f.id.replace(/^[a-z]+\./, ''))).join(', ');

type Rule = (evidence: Evidence) => Diagnosis[];

const IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|\[?[0-9a-fA-F:]*:[0-9a-fA-F:.]*\]?)(:\d+)?$/;

/**
 * An outside probe that failed on the name, not the way out: unresolved, or a target by name failing from a node
 * that reaches an outside target by address (a probe by name cannot tell a resolution timeout from a connect one).
 */
function failedOnName(evidence: Evidence, finding: Finding): boolean {
  if (reason(finding) === 'unresolved') return true;
  if (IP_ADDRESS.test(String(metric(finding, 'target') ?? ''))) return false;
  return evidence.all.some(
    (f) =>
      EXTERNAL.includes(f.id) &&
      f.subject === finding.subject &&
      f.status === 'pass' &&
      IP_ADDRESS.test(String(metric(f, 'target') ?? '')),
  );
}

/** CoreDNS down for everyone, or slow: every node's cluster-name failures are its. */
const corednsRule: Rule = (evidence) => {
  const diagnoses: Diagnosis[] = [];
  const down = evidence.open([Ids.causeCoredns, Ids.clusterCoredns], (f) => f.status === 'fail');
  if (down.length > 0) {
    const namesFailing = evidence.open([
      Ids.lookupCluster,
      Ids.lookupExternal,
      Ids.hopNodeLocal,
      Ids.hopClusterIp,
      Ids.serviceName,
      Ids.latency,
    ]);
    const unresolved = evidence.open(EXTERNAL, (f) => failedOnName(evidence, f));
    const clusterFinding = down.find((f) => f.subject === CLUSTER) ?? down[0]!;
    diagnoses.push(
      diagnose(evidence, {
        id: DoctorIds.coredns,
        subject: CLUSTER,
        cause: `CoreDNS is down: ${clusterFinding.summary}; every lookup through it fails (${namesFailing.length + unresolved.length} findings)`,
        next: 'kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide && kubectl netdiag dns',
        findings: [...down, ...namesFailing, ...unresolved],
        nodes: evidence.nodesChecked([Ids.lookupCluster]),
      }),
    );
  }
  const slow = evidence.open([Ids.causeSlow], (f) => metric(f, 'slow') !== 'upstream');
  if (slow.length > 0) {
    const latency = evidence.open([Ids.latency]);
    diagnoses.push(
      diagnose(evidence, {
        id: DoctorIds.coredns,
        subject: CLUSTER,
        cause: `CoreDNS answers slowly from ${describeNodes(unique(slow.flatMap(nodesOf)))}: ${slow[0]!.summary}`,
        next: 'kubectl -n kube-system top pods -l k8s-app=kube-dns && kubectl netdiag dns',
        findings: [...slow, ...latency],
      }),
    );
  }
  return diagnoses;
};

/** A node with a failing pod-IP path to or from it: its problem is the pod network, whatever its Services do. */
const podPathBroken = (evidence: Evidence, node: string): boolean =>
  evidence.problems.some((f) => POD_PATH.includes(f.id) && f.status === 'fail' && nodesOf(f).includes(node));

/**
 * The service-path findings that blame one node's kube-proxy rules: its own ClusterIP/Service/rules findings, and
 * NodePort probes to it (a NodePort pair's `to` is the node whose rules answer).
 */
const serviceFindings = (evidence: Evidence, node: string): Finding[] =>
  evidence.open(SERVICE_PATH, (f) => {
    const where = parseSubject(f.subject);
    return where.kind === 'node'
      ? where.node === node
      : where.kind === 'pair' && f.id === Ids.nodePort && where.to === node;
  });

/**
 * The test Service's echo pods never (or only partly) became its endpoints: the control plane's EndpointSlice
 * controller. check then did not send the Service probes that would have failed on every node as kube-proxy's.
 */
const serviceEndpointsRule: Rule = (evidence) =>
  evidence.open([Ids.serviceEndpoints]).map((finding) =>
    diagnose(evidence, {
      id: DoctorIds.serviceEndpoints,
      subject: CLUSTER,
      cause: `the control plane does not publish the pods behind new Services: ${String(metric(finding, 'ready'))} of ${String(metric(finding, 'expected'))} echo pods became endpoints of the test Service in ${(Number(metric(finding, 'waitedMs') ?? 0) / 1000).toFixed(0)} s — the EndpointSlice controller (kube-controller-manager) is down, behind, or cannot reach the API server`,
      next: 'kubectl get endpointslices -A && kubectl get --raw "/readyz?verbose"',
      findings: [finding],
    }),
  );

/** Service findings and everything DNS on one node with pod IPs working there: kube-proxy's rules, not DNS. */
const kubeProxyRule: Rule = (evidence) => {
  const blamed = evidence
    .open(SERVICE_PROBES, (f) => f.status === 'fail')
    .map((f) => {
      const where = parseSubject(f.subject);
      return where.kind === 'node' ? where.node : where.kind === 'pair' && f.id === Ids.nodePort ? where.to : '';
    });
  const nodes = unique(blamed.filter(Boolean)).filter((node) => !podPathBroken(evidence, node));
  return nodes.map((node) => {
    const service = serviceFindings(evidence, node);
    const dns = evidence.open(
      [
        Ids.lookupCluster,
        Ids.lookupExternal,
        Ids.hopNodeLocal,
        Ids.hopClusterIp,
        Ids.causeNodeLocal,
        Ids.causeUpstream,
        Ids.causePodNetwork,
        Ids.latency,
        Ids.serviceName,
        Ids.http,
      ],
      (f) => f.subject === nodeSubject(node),
    );
    const unresolved = evidence.open(EXTERNAL, (f) => f.subject === nodeSubject(node) && failedOnName(evidence, f));
    const dnsToo = dns.some((f) => f.id.startsWith('dns.'));
    return diagnose(evidence, {
      id: DoctorIds.kubeProxy,
      subject: nodeSubject(node),
      cause:
        `${node}: kube-proxy's Service rules are not working there — ${idsIn(service)} fail from it while pod IPs work` +
        (dnsToo ? `; DNS fails on ${node} for the same reason (kube-dns is a ClusterIP)` : ''),
      next: `kubectl netdiag node --nodes ${node}`,
      findings: [...service, ...dns, ...unresolved],
    });
  });
};

/** The node-local cache on a node fails while kube-dns answers there. */
const nodeLocalRule: Rule = (evidence) => {
  const failing = evidence.open([Ids.causeNodeLocal, Ids.hopNodeLocal], (f) => parseSubject(f.subject).kind === 'node');
  const nodes = unique(failing.flatMap(nodesOf)).filter(
    (node) =>
      evidence.onNode(node, [Ids.causeNodeLocal]).length > 0 || evidence.onNode(node, [Ids.hopClusterIp]).length === 0,
  );
  return nodes.map((node) => {
    const findings = [
      ...evidence.open(
        [Ids.causeNodeLocal, Ids.hopNodeLocal, Ids.lookupCluster, Ids.lookupExternal, Ids.latency, Ids.serviceName],
        (f) => f.subject === nodeSubject(node),
      ),
      ...evidence.open(EXTERNAL, (f) => f.subject === nodeSubject(node) && failedOnName(evidence, f)),
    ];
    return diagnose(evidence, {
      id: DoctorIds.nodeLocalDns,
      subject: nodeSubject(node),
      cause: `${node}: the node-local DNS cache does not answer while kube-dns does; pods there cannot resolve names`,
      next: `kubectl netdiag dns --nodes ${node}`,
      findings,
    });
  });
};

/** External targets unreachable by address (not by name) from some nodes, or from all: egress. */
const egressRule: Rule = (evidence) => {
  const failing = evidence.open(EXTERNAL, (f) => !failedOnName(evidence, f) && parseSubject(f.subject).kind === 'node');
  if (failing.length === 0) return [];
  const nodes = unique(failing.flatMap(nodesOf));
  const checked = evidence.nodesChecked(EXTERNAL);
  const everywhere = checked.length > 1 && nodes.length === checked.length;
  const dnsOut = (node: string) =>
    evidence.open([Ids.lookupExternal, Ids.causeUpstream, Ids.hopUpstream], (f) => f.subject === nodeSubject(node));
  if (everywhere)
    return [
      diagnose(evidence, {
        id: DoctorIds.egress,
        subject: CLUSTER,
        cause: `nothing leaves the cluster: ${idsIn(failing)} fail from every node while traffic inside works — egress (NAT, firewall, route out)`,
        next: 'kubectl netdiag check',
        findings: [...failing, ...nodes.flatMap(dnsOut)],
        nodes,
      }),
    ];
  return nodes.map((node) => {
    const own = failing.filter((f) => f.subject === nodeSubject(node));
    return diagnose(evidence, {
      id: DoctorIds.egress,
      subject: nodeSubject(node),
      cause: `${node}: traffic out of the cluster is blocked from this node (${idsIn(own)} fail: ${unique(own.map(reason)).join(', ')}) while other nodes reach the outside`,
      next: `kubectl netdiag check --nodes ${node}`,
      findings: [...own, ...dnsOut(node)],
    });
  });
};

/** External names fail while cluster names resolve, and the outside is reachable by address: the upstream resolver. */
const upstreamRule: Rule = (evidence) => {
  const failing = evidence.open([Ids.causeUpstream, Ids.hopUpstream, Ids.lookupExternal]);
  if (failing.length === 0) return [];
  const unresolved = evidence.open(EXTERNAL, (f) => failedOnName(evidence, f));
  const nodes = unique(failing.flatMap(nodesOf));
  const checked = evidence.nodesChecked([Ids.lookupExternal, Ids.hopUpstream]);
  const everywhere =
    failing.some((f) => f.subject === CLUSTER) || (checked.length > 0 && nodes.length >= checked.length);
  return [
    diagnose(evidence, {
      id: DoctorIds.upstreamDns,
      subject: everywhere ? CLUSTER : nodeSubject(nodes[0]!),
      cause: everywhere
        ? 'the upstream DNS server CoreDNS forwards to does not answer: cluster names resolve, external names fail from every node'
        : `external names fail from ${describeNodes(nodes)} only while cluster names resolve: the path from there to the upstream resolver`,
      next: 'kubectl netdiag dns',
      findings: [...failing, ...unresolved],
      nodes,
    }),
  ];
};

/** Paths and nodes whose findings say "full-size packets are lost". */
const mtuRule: Rule = (evidence) => {
  const findings = [
    ...evidence.open([Ids.mtu, Ids.interfaceMtu]),
    ...evidence.problems.filter((f) => f.id.startsWith('bw.') && measuredCause(f) === 'mtu'),
  ].filter((f, i, all) => all.indexOf(f) === i);
  return localise(findings).map((located) => {
    const related = located.nodes.length === 1 ? relatedOnNode(evidence, located.nodes[0]!, /mtu/i) : [];
    const mtuValue = located.findings.map((f) => metric(f, 'mtu')).find((v) => v !== undefined);
    return diagnose(evidence, {
      id: DoctorIds.mtu,
      subject: located.subject,
      cause: `${located.subject.replace(/^node\//, '')}: full-size packets with DF set are lost${mtuValue === undefined ? '' : ` (MTU ${mtuValue})`} — an MTU mismatch on that path; smaller packets pass, so pings work and large transfers stall`,
      next: `kubectl netdiag check --nodes ${located.nodes.join(',')}`,
      findings: [...located.findings, ...related],
    });
  });
};

/** Findings on a node (or paths touching it) that a node-level cause also explains: loss, stalls, a fleet difference. */
function relatedOnNode(evidence: Evidence, node: string, oddFact?: RegExp): Finding[] {
  const touches = (f: Finding) => nodesOf(f).includes(node);
  return [
    ...evidence.open(
      [...POD_PATH, Ids.nodePort, Ids.http, Ids.bwOutlier, Ids.bwRetransmits, Ids.bwUdpLoss, Ids.bwPair],
      touches,
    ),
    ...(oddFact
      ? evidence.open(
          [Ids.oddOneOut],
          (f) => touches(f) && (oddFact.test(f.summary) || oddFact.test(String(metric(f, 'fact') ?? ''))),
        )
      : []),
  ];
}

/**
 * Findings between the two ends of a path, either way: what a cause measured on that path also explains (a rule that
 * dropped the bandwidth test between two nodes is why their pings fail too: one diagnosis, not two).
 */
function relatedOnPath(evidence: Evidence, ends: readonly string[]): Finding[] {
  return evidence.open([...POD_PATH, Ids.bwOutlier, Ids.bwRetransmits, Ids.bwUdpLoss, Ids.bwPair], (f) => {
    const where = parseSubject(f.subject);
    return where.kind === 'pair' && where.from !== where.to && ends.includes(where.from) && ends.includes(where.to);
  });
}

/**
 * Loss with moving NIC error counters (hardware) or DROP/REJECT counters (a firewall), or a rate a qdisc holds a link
 * to, localised to a node or path; `oddFact` names the node's odd-one-out fact that is the same cause.
 */
function countersRule(
  id: DiagnosisId,
  cause: string,
  nodeIds: readonly string[],
  say: (where: string, findings: readonly Finding[]) => string,
  oddFact?: RegExp,
): Rule {
  return (evidence) => {
    const findings = [
      ...evidence.open(nodeIds),
      ...evidence.problems.filter((f) => measuredCause(f) === cause && !nodeIds.includes(f.id)),
    ].filter((f, i, all) => all.indexOf(f) === i);
    return localise(findings).map((located) =>
      diagnose(evidence, {
        id,
        subject: located.subject,
        cause: say(located.subject.replace(/^node\//, ''), located.findings),
        next: `kubectl netdiag node --nodes ${located.nodes.join(',')}`,
        // The related findings include the located ones (not claimed yet): each once.
        findings: [
          ...located.findings,
          ...(located.nodes.length === 1
            ? relatedOnNode(evidence, located.nodes[0]!, oddFact)
            : located.nodes.length === 2
              ? relatedOnPath(evidence, located.nodes)
              : []),
        ].filter((f, i, all) => all.indexOf(f) === i),
      }),
    );
  };
}

const nicRule = countersRule(
  DoctorIds.nicHardware,
  'nic-errors',
  [Ids.interfaceErrors],
  (where) =>
    `${where}: packets are lost while the NIC's error counters move — hardware (cable, NIC, driver), not configuration`,
);

const firewallRule = countersRule(
  DoctorIds.firewall,
  'firewall',
  [],
  (where) =>
    `${where}: packets are lost while DROP/REJECT rule counters move there — a firewall rule drops this traffic`,
);

/** What a node's rate-limit finding says was limited ("eth0 is limited to 100.0 Mbit/s by a tbf qdisc"), if any. */
function limitedInterface(findings: readonly Finding[]): string | undefined {
  const node = findings.find((f) => f.id === Ids.interfaceRateLimit && typeof metric(f, 'device') === 'string');
  const rate = node && metric(node, 'rateBitsPerSecond');
  return node && typeof rate === 'number'
    ? `${String(metric(node, 'device'))} is limited to ${formatBits(rate)} by a ${String(metric(node, 'kind'))} qdisc`
    : undefined;
}

const shapingRule = countersRule(
  DoctorIds.trafficShaping,
  'shaper',
  [Ids.interfaceRateLimit],
  (where, findings) =>
    `${where}: ${limitedInterface(findings) ?? 'a qdisc limits the rate of an interface there (tc)'} — the links through it measure that limit: a configuration, not a fault of the network`,
  /rate limit/i,
);

/** TCP to pods fails where ping to the same pods passes: a rule (firewall, NetworkPolicy) drops that port. */
const portFilterRule: Rule = (evidence) => {
  const pingPasses = new Set(
    evidence.all.filter((f) => f.id === Ids.podPod && f.status === 'pass').map((f) => f.subject),
  );
  const blocked = evidence.open([Ids.podIp], (f) => f.status === 'fail' && pingPasses.has(f.subject));
  return localise(blocked).map((located) =>
    diagnose(evidence, {
      id: DoctorIds.firewall,
      subject: located.subject,
      cause: `${located.subject.replace(/^node\//, '')}: TCP to the pods fails (${unique(located.findings.map(reason)).join(', ')}) while ping to the same pods passes — a firewall rule or NetworkPolicy drops that port`,
      next: `kubectl netdiag check --nodes ${located.nodes.join(',')}`,
      findings: located.findings,
    }),
  );
};

/** Pod traffic lost between nodes (the rest working): the underlay route, the overlay or a firewall between them. */
const podnetRule: Rule = (evidence) => {
  const paths = evidence.open(POD_PATH, (f) => {
    const where = parseSubject(f.subject);
    return f.status === 'fail' && where.kind === 'pair' && where.from !== where.to;
  });
  const located = localise(paths);
  // "CoreDNS pods do not answer from this node" is the same broken path seen by DNS: it joins the path's
  // diagnosis, and stands as the node's own only when no pod-to-pod probe covered it.
  const dnsSeen = evidence.open([Ids.causePodNetwork, ...POD_PATH], (f) => parseSubject(f.subject).kind === 'node');
  const lone = dnsSeen.filter((f) => !located.some((group) => group.nodes.some((node) => nodesOf(f).includes(node))));
  return [...located, ...localise(lone)].map((group) => {
    const between = group.subject.includes('→');
    const onEnds = (f: Finding) => {
      const ends = nodesOf(f);
      return ends.length > 0 && ends.every((node) => group.nodes.includes(node));
    };
    return diagnose(evidence, {
      id: DoctorIds.podnetPath,
      subject: group.subject,
      cause: between
        ? `pod traffic between ${group.nodes.join(' and ')} is lost while each reaches the other nodes: the underlay route, the overlay or a firewall between those two nodes`
        : `${group.nodes[0]}: pod traffic to and from this node is lost while the other nodes reach each other: its pod network (routes, CNI, overlay)`,
      next: `kubectl netdiag doctor --quick --capture-failures --nodes ${group.nodes.join(',')}`,
      findings: [
        ...group.findings,
        ...(between ? [] : relatedOnNode(evidence, group.nodes[0]!)),
        // Services and DNS whose endpoints are across the broken path fail too: the same cause, not kube-proxy's.
        ...evidence.open(
          [
            Ids.causePodNetwork,
            Ids.clusterIp,
            Ids.nodePort,
            Ids.serviceName,
            Ids.http,
            Ids.lookupCluster,
            Ids.hopNodeLocal,
            Ids.hopClusterIp,
            Ids.hopCorednsPod,
          ],
          onEnds,
        ),
      ],
    });
  });
};

/** Bandwidth outliers no cause above explains. */
const bandwidthRule: Rule = (evidence) =>
  localise(
    // UDP loss the receiving host dropped itself (bw's receiver-buffer) is not a slow link: it stays listed.
    evidence.open([Ids.bwOutlier, Ids.bwRetransmits, Ids.bwUdpLoss], (f) => measuredCause(f) !== 'receiver-buffer'),
  ).map((located) =>
    diagnose(evidence, {
      id: DoctorIds.bandwidthOutlier,
      subject: located.subject,
      cause: `${located.subject.replace(/^node\//, '')}: bandwidth far below the other ${located.subject.startsWith('node/') ? 'nodes' : 'paths'} with no loss, MTU or counter to explain it — a rate limit, a slower link or a busy NIC`,
      next: `kubectl netdiag bw --nodes ${located.nodes.join(',')}`,
      findings: located.findings,
    }),
  );

/** A node unlike the others, the difference named. */
const oddNodeRule: Rule = (evidence) =>
  localise(evidence.open([Ids.oddOneOut])).map((located) =>
    diagnose(evidence, {
      id: DoctorIds.oddNode,
      subject: located.subject,
      // The finding's summary already says "differs from the other nodes: …".
      cause: `${located.subject.replace(/^node\//, '')}: ${located.findings.map((f) => f.summary).join('; ')}`,
      next: `kubectl netdiag node --nodes ${located.nodes.join(',')}`,
      findings: located.findings,
    }),
  );

/** In order: cluster-wide DNS first, the control plane's endpoints, then the per-node service path, the DNS cache, egress, upstream, the data path. */
const RULES: readonly Rule[] = [
  corednsRule,
  serviceEndpointsRule,
  kubeProxyRule,
  nodeLocalRule,
  egressRule,
  upstreamRule,
  mtuRule,
  nicRule,
  firewallRule,
  portFilterRule,
  podnetRule,
  shapingRule,
  bandwidthRule,
  oddNodeRule,
];

/** Diagnoses for one run's findings, errors first; findings no rule explains stay listed. */
export function correlate(findings: readonly Finding[]): Correlation {
  const evidence = new Evidence(findings);
  const diagnoses = RULES.flatMap((rule) => rule(evidence));
  return {
    diagnoses: diagnoses.sort(
      (a, b) =>
        (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
        byName(a.id, b.id) ||
        byName(a.subject, b.subject),
    ),
    unexplained: evidence.unexplained(),
  };
}
