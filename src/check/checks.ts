/**
 * Probe outcomes → findings, pure. One finding per probe (pairs: `<from>→<to>`; a node's view of a Service or of the
 * outside: `node/<from>` with `metrics.target`), so that "pod IPs fine, ClusterIP broken from worker3" reads straight
 * off the report. MTU results become one finding per pair with the sizes and the verdict.
 */
import { trimOutput, type Finding, type MetricValue, type Status } from '../findings/model.js';
import { CHECK_IDS, type ProbeCheckId } from './ids.js';
import type { ProbeOutcome } from './outcome.js';
import type { FailureReason } from './reasons.js';
import { dfSizeForMtu, ICMP_IPV4_OVERHEAD, mtuVerdict, type MtuEvidence } from './ping.js';
import type { Probe } from './probes.js';

/** A probe as run: what ran where, what it printed, what that meant. Also the `probes[]` of the JSON output. */
export interface ProbeRecord {
  readonly probe: Probe;
  readonly outcome: ProbeOutcome;
  /** The pod that ran it: `namespace/name`. */
  readonly pod: string;
  readonly exitCode: number;
  /** stdout and stderr, trimmed. */
  readonly output: string;
}

export const pairSubject = (from: string, to: string): string => `${from}→${to}`;
export const nodeSubject = (node: string): string => `node/${node}`;

/** What each check is, in a summary line. */
const DESCRIPTIONS: Readonly<Record<ProbeCheckId, string>> = {
  [CHECK_IDS.podToPod]: 'ping pod→pod',
  [CHECK_IDS.podToNode]: 'ping pod→node',
  [CHECK_IDS.podIP]: 'TCP to the echo pod IP',
  [CHECK_IDS.clusterIP]: 'the test Service ClusterIP',
  [CHECK_IDS.nodePort]: 'TCP to the NodePort',
  [CHECK_IDS.serviceName]: 'TCP to the test Service',
  [CHECK_IDS.http]: 'HTTP GET of the test Service',
  [CHECK_IDS.mtu]: 'DF ping at the pod MTU',
  [CHECK_IDS.externalTcp]: 'TCP',
  [CHECK_IDS.externalUdp]: 'UDP',
  [CHECK_IDS.externalHttp]: 'HTTP GET',
  [CHECK_IDS.externalPing]: 'ping',
  [CHECK_IDS.kubernetesService]: 'the kubernetes Service (API server)',
};

/** What to do about an outside target that failed, by reason; node-free so one line covers every node. */
function outsideHint(reason: FailureReason | undefined): string {
  switch (reason) {
    case 'refused':
      return 'the target answered but nothing listens on that port (or its firewall rejects): check the target';
    case 'unresolved':
      return 'the name does not resolve from the node: `kubectl netdiag dns`';
    case 'no-reply':
      return 'a UDP service that ignores a line of text looks the same as a drop: check with a client of that protocol';
    default:
      return 'check egress from the node (firewall, NAT, proxy) and the target itself';
  }
}

/** What to do about a failed probe, per check: the next place to look, said as a fix line. */
function hintFor(probe: Probe, reason?: FailureReason): string {
  const { from, to } = probe;
  switch (probe.id) {
    case CHECK_IDS.podToPod:
      return from === to
        ? `pods on ${from} cannot reach each other: check the CNI bridge and veths there (\`kubectl netdiag node ${from}\`)`
        : `pod traffic ${from} → ${to} is lost: check the CNI routes or tunnel between the two nodes and firewalls on the underlay (\`kubectl netdiag node ${from} ${to ?? ''}\`)`;
    case CHECK_IDS.podToNode:
      return `pods on ${from} cannot reach ${to ?? 'the node'}'s address: check routes and the host firewall there`;
    case CHECK_IDS.podIP:
      return `TCP to the echo pod on ${to ?? 'the node'} fails: a NetworkPolicy or firewall dropping the port`;
    case CHECK_IDS.clusterIP:
      return `${from} does not translate the Service's ClusterIP: check kube-proxy there (\`kubectl netdiag node ${from}\`: KUBE-SERVICES)`;
    case CHECK_IDS.nodePort:
      return `the NodePort on ${to ?? 'the node'} does not answer: check kube-proxy's rules there (KUBE-NODEPORTS) and firewalls for the node port range`;
    case CHECK_IDS.serviceName:
    case CHECK_IDS.http:
      return probe.target === 'name'
        ? `the Service's name fails from ${from}: if its ClusterIP works this is DNS (\`kubectl netdiag dns\`)`
        : `the Service fails from ${from}: see the ClusterIP and pod-IP checks of that node`;
    case CHECK_IDS.mtu:
      return 'set the pod MTU (CNI config) to the underlay MTU minus the encapsulation overhead';
    case CHECK_IDS.kubernetesService:
      return `the API server's Service does not answer from ${from}: check kube-proxy there and \`kubectl get endpointslices -n default\``;
    case CHECK_IDS.externalTcp:
    case CHECK_IDS.externalUdp:
    case CHECK_IDS.externalHttp:
    case CHECK_IDS.externalPing:
      return outsideHint(reason);
  }
}

/** pass, fail, or warn for a UDP target the user named that neither answered nor refused (it may ignore our line). */
function statusOf(record: ProbeRecord): Status {
  if (record.outcome.ok) return 'pass';
  if (record.probe.id === CHECK_IDS.externalUdp && record.outcome.reason === 'no-reply') return 'warn';
  return 'fail';
}

const formatMs = (ms: number): string => (ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`);

export function probeFinding(record: ProbeRecord): Finding {
  const { probe, outcome } = record;
  const status = statusOf(record);
  const subject = probe.to === undefined ? nodeSubject(probe.from) : pairSubject(probe.from, probe.to);
  const what = `${DESCRIPTIONS[probe.id]} ${probe.target}`;
  const time =
    outcome.latencyMs !== undefined
      ? `, ${formatMs(outcome.latencyMs)}`
      : outcome.elapsedMs !== undefined
        ? `, within ${formatMs(outcome.elapsedMs)}`
        : '';
  const summary = outcome.ok
    ? `${what}: ${outcome.detail}${time}`
    : `${what}: ${outcome.reason ?? 'failed'} (${outcome.detail})`;
  const metrics: Record<string, MetricValue> = { layer: probe.layer, from: probe.from, target: probe.target };
  if (probe.to !== undefined) metrics.to = probe.to;
  if (outcome.latencyMs !== undefined) metrics.latencyMs = outcome.latencyMs;
  if (outcome.elapsedMs !== undefined) metrics.elapsedMs = outcome.elapsedMs;
  if (outcome.httpStatus !== undefined) metrics.httpStatus = outcome.httpStatus;
  if (outcome.reason !== undefined) metrics.reason = outcome.reason;
  return {
    id: probe.id,
    subject,
    status,
    summary,
    evidence: [{ where: record.pod, command: probe.argv.join(' '), output: trimOutput(record.output) }],
    ...(status === 'pass' ? {} : { hint: hintFor(probe, outcome.reason) }),
    metrics,
  };
}

/** What the MTU probes of one pair found. */
export interface MtuPairResult {
  readonly from: string;
  readonly to: string;
  readonly fromMtu: number;
  readonly toMtu: number;
  /** The first DF ping, at the largest size both pod interfaces allow. */
  readonly fullSize: ProbeRecord;
  /** Largest DF payload that passed: the full size, or what the search found. */
  readonly largestPassing: number;
  /** DF sizes tried by the search, in order. */
  readonly searched: readonly number[];
}

export function mtuFinding(result: MtuPairResult): Finding {
  const { from, to, fromMtu, toMtu, fullSize } = result;
  const size = dfSizeForMtu(Math.min(fromMtu, toMtu));
  const fullSizeFailure = fullSize.outcome.ok
    ? undefined
    : {
        reason: fullSize.outcome.reason ?? 'error',
        ...(fullSize.outcome.mtu === undefined ? {} : { mtu: fullSize.outcome.mtu }),
      };
  const evidence: MtuEvidence = {
    fromMtu,
    toMtu,
    largestPassing: result.largestPassing,
    ...(fullSizeFailure === undefined ? {} : { fullSizeFailure }),
  };
  const verdict = mtuVerdict(evidence);
  const metrics: Record<string, MetricValue> = {
    layer: 'MTU',
    from,
    to,
    fromMtu,
    toMtu,
    dfSize: size,
    largestPassing: result.largestPassing,
    pathMtu: verdict.pathMtu,
    verdict: verdict.kind,
  };
  if (fullSize.outcome.reason !== undefined) metrics.reason = fullSize.outcome.reason;
  const base = {
    id: CHECK_IDS.mtu,
    subject: pairSubject(from, to),
    evidence: [
      {
        where: fullSize.pod,
        command: fullSize.probe.argv.join(' '),
        output: trimOutput(fullSize.output),
      },
      ...(result.searched.length === 0
        ? []
        : [
            {
              where: fullSize.pod,
              output: `DF sizes tried: ${result.searched.join(', ')}; largest that passed: ${result.largestPassing}`,
            },
          ]),
    ],
  };
  switch (verdict.kind) {
    case 'ok':
      return {
        ...base,
        status: 'pass',
        summary: `DF ping of ${size} bytes (MTU ${size + ICMP_IPV4_OVERHEAD}) passes`,
        metrics,
      };
    case 'black-hole':
      return {
        ...base,
        status: 'fail',
        summary: `MTU black hole: DF pings above ${result.largestPassing} bytes are dropped without an ICMP answer (path MTU ${verdict.pathMtu}, pod MTU ${fromMtu} on ${from}, ${toMtu} on ${to})`,
        hint: hintFor(fullSize.probe),
        metrics,
      };
    case 'fragmentation-needed':
      metrics.reportedMtu = verdict.reportedMtu;
      return {
        ...base,
        status: 'fail',
        summary: `the path allows ${verdict.pathMtu} bytes but the pods use ${verdict.interfaceMtu} (the sender was told MTU ${verdict.reportedMtu}; largest DF ping that passes: ${result.largestPassing} bytes)`,
        hint: hintFor(fullSize.probe),
        metrics,
      };
  }
}

/** A pair whose MTU was not checked (its plain ping failed, so sizes mean nothing), said as a skip. */
export function mtuSkipped(from: string, to: string, why: string): Finding {
  return {
    id: CHECK_IDS.mtu,
    subject: pairSubject(from, to),
    status: 'skip',
    summary: `MTU not checked: ${why}`,
    evidence: [],
    metrics: { layer: 'MTU', from, to },
  };
}

/** How many echo pods were ready endpoints of the test Service when its probes were due, and how long that took. */
export interface EndpointsWait {
  readonly service: string;
  readonly namespace: string;
  readonly ready: number;
  readonly expected: number;
  readonly waitedMs: number;
}

/**
 * Whether the control plane published the echo pods as endpoints of the test Service. With none, the Service probes
 * were not run: they would fail on every node and read as kube-proxy's fault.
 */
export function endpointsFinding(wait: EndpointsWait): Finding {
  const { service, namespace, ready, expected } = wait;
  const seconds = `${(wait.waitedMs / 1000).toFixed(1)} s`;
  const evidence = [
    {
      where: 'cluster',
      command: `kubectl get endpointslices -n ${namespace} -l kubernetes.io/service-name=${service}`,
      output: `${ready} of ${expected} echo pods ready after ${seconds}`,
    },
  ];
  const metrics = { ready, expected, waitedMs: wait.waitedMs };
  const subject = 'cluster';
  if (ready >= expected)
    return {
      id: CHECK_IDS.serviceEndpoints,
      subject,
      status: 'pass',
      summary: `the test Service listed all ${expected} echo pods as ready endpoints after ${seconds}`,
      evidence,
      metrics,
    };
  const hint =
    'the EndpointSlice controller of kube-controller-manager publishes Service endpoints: check that it runs and reaches the API server (its logs), and `kubectl get endpointslices -A` for others that lag';
  if (ready > 0)
    return {
      id: CHECK_IDS.serviceEndpoints,
      subject,
      status: 'warn',
      summary: `only ${ready} of ${expected} running echo pods were ready endpoints of the test Service after ${seconds}: the Service probes reached those`,
      evidence,
      hint,
      metrics,
    };
  return {
    id: CHECK_IDS.serviceEndpoints,
    subject,
    status: 'fail',
    summary: `none of the ${expected} running echo pods became an endpoint of the test Service in ${seconds}: Service probes (ClusterIP, NodePort, name, HTTP) not run — new Services get no backends`,
    evidence,
    hint,
    metrics,
  };
}
