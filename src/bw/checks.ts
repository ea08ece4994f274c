/**
 * From measured pairs (and, for the bad ones, the evidence taken on their nodes) to findings. Pure.
 *
 * A link is bad when it is an outlier (far below what the cluster's links reach), retransmits a lot (TCP), loses
 * datagrams (UDP), or is much slower on the pod network than on the host network between the same nodes. For each
 * bad link the likeliest of the seed's causes is named from the evidence, most specific first:
 * 0. receiver-buffer (UDP loss): the receiving namespace's `Udp: RcvbufErrors` grew by most of the datagrams lost —
 *    the receiving iperf3 did not read as fast as the sender sent: the host, not the network (a warning);
 * 1. mtu: a don't-fragment ping of the interface's full size does not pass while a small one does (packets of the size
 *    TCP sends are lost), or the nodes disagree on an interface's MTU;
 * 2. firewall: a DROP/REJECT rule on either node counted packets during the test;
 * 3. shaper: a qdisc on either node with a rate (tbf) passed the test's traffic, and the pair measured that
 *    rate (between half of it and a little above: the qdisc counts headers iperf3 does not) — a configured limit, not
 *    a fault of the network;
 * 4. nic-errors: error or drop counters of either node's interfaces grew during the test;
 * 5. none of them was seen.
 */
import { type Evidence, type Finding, type MetricValue, trimOutput } from '../findings/model.js';
import type { CountersDiff, FirewallRule } from '../node/counters.js';
import { describeCountersDiff } from '../node/counters.js';
import { formatBits } from '../lib/units.js';
import { type BwCause, BW_IDS } from './ids.js';
import type { BwData, Network, PairResult } from './model.js';

/** A link slower than the reference ÷ this is an outlier. */
export const OUTLIER_FACTOR = 3;
/** Retransmitted segments per 100 full-size segments sent above which TCP is losing packets (healthy: ≪ 0.1). */
export const RETRANSMIT_PERCENT_FAIL = 1;
/** UDP datagrams lost, %. */
export const UDP_LOSS_PERCENT_FAIL = 1;
/**
 * Pod network ÷ host network below this (the pod path is more than {@link OUTLIER_FACTOR}× slower): overlay or CNI
 * overhead. Not k8s-netperf's 10 % tolerance: one short test per pair and network varies more than that on a busy
 * node (the lab's routed pod network, no overlay, measured 0.42–1.01 under load).
 */
export const OVERLAY_RATIO_FAIL = 1 / OUTLIER_FACTOR;
/** An iperf3 process above this % of one CPU measured its CPU (iperf3 ≤ 3.15 is single-threaded). */
export const CPU_BOUND_PERCENT = 90;
/** A full-size TCP segment on a 1500-byte Ethernet path (1500 − 40 header − 12 timestamp option). */
const SEGMENT_BYTES = 1448;

export const pairSubject = (pair: { from: string; to: string }): string => `${pair.from}→${pair.to}`;
/** One measured direction on one network (`network/from→to`): the key of evidence. */
export const resultKey = (pair: { from: string; to: string; network: Network }): string =>
  `${pair.network}/${pairSubject(pair)}`;

/**
 * What the cluster's links typically reach on one network: the median, over nodes, of each node's fastest link.
 * Not the median of all pairs: one slow node is in 2(n−1) of n(n−1) pairs, a majority on 3 nodes (4 of 6), and the
 * plain median would then call its slow pairs normal. Undefined when no pair of the network has a rate.
 */
export function referenceRate(results: readonly PairResult[], network: Network): number | undefined {
  const fastest = new Map<string, number>();
  for (const result of results) {
    if (result.network !== network || result.bitsPerSecond === null) continue;
    for (const node of [result.from, result.to]) {
      fastest.set(node, Math.max(fastest.get(node) ?? 0, result.bitsPerSecond));
    }
  }
  return median([...fastest.values()]);
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Retransmitted segments per 100 full-size segments sent; undefined without TCP numbers. */
export function retransmitPercent(result: PairResult): number | undefined {
  if (result.retransmits === null || result.bytesSent === null || result.bytesSent <= 0) return undefined;
  return (100 * result.retransmits * SEGMENT_BYTES) / result.bytesSent;
}

/** A reason to look closer at one measured direction. */
export interface Flag {
  readonly id: string;
  readonly result: PairResult;
  readonly summary: string;
  readonly metrics: Readonly<Record<string, MetricValue>>;
}

/** Every bad link of the run (failed tests included): the pairs the engine gathers evidence for. */
export function flagPairs(data: BwData): Flag[] {
  const flags: Flag[] = [];
  const references = new Map(data.networks.map((network) => [network, referenceRate(data.results, network)]));
  for (const result of data.results) {
    const subject = `${pairSubject(result)} (${result.network} network)`;
    if (result.error !== null || result.bitsPerSecond === null) {
      flags.push({ id: BW_IDS.pair, result, summary: `${subject}: ${result.error ?? 'no result'}`, metrics: {} });
      continue;
    }
    if (data.minBitsPerSecond !== null && result.bitsPerSecond < data.minBitsPerSecond) {
      flags.push({
        id: BW_IDS.belowMin,
        result,
        summary: `${subject}: ${formatBits(result.bitsPerSecond)}, below the ${formatBits(data.minBitsPerSecond)} of --min-rate`,
        metrics: { minBitsPerSecond: data.minBitsPerSecond },
      });
    }
    const reference = references.get(result.network);
    if (reference !== undefined && result.bitsPerSecond * OUTLIER_FACTOR < reference) {
      const reached = `the ${formatBits(reference)} the cluster's links reach`;
      if (result.bitsPerSecond === 0) {
        // A black hole (an MTU the path cannot carry, a firewall): there is no factor to give.
        flags.push({
          id: BW_IDS.outlier,
          result,
          summary: `${subject}: nothing arrived, against ${reached}`,
          metrics: { referenceBitsPerSecond: Math.round(reference) },
        });
      } else {
        const factor = reference / result.bitsPerSecond;
        flags.push({
          id: BW_IDS.outlier,
          result,
          summary: `${subject}: ${formatBits(result.bitsPerSecond)}, ${factor.toFixed(1)}× below ${reached}`,
          metrics: { factor: round(factor, 2), referenceBitsPerSecond: Math.round(reference) },
        });
      }
    }
    const retransmits = retransmitPercent(result);
    if (retransmits !== undefined && retransmits > RETRANSMIT_PERCENT_FAIL) {
      flags.push({
        id: BW_IDS.retransmits,
        result,
        summary: `${subject}: ${result.retransmits} retransmits, ${retransmits.toFixed(1)} per 100 segments sent`,
        metrics: { retransmitPercent: round(retransmits, 2) },
      });
    }
    if (result.lostPercent !== null && result.lostPercent > UDP_LOSS_PERCENT_FAIL) {
      flags.push({
        id: BW_IDS.udpLoss,
        result,
        summary: `${subject}: ${result.lostPercent.toFixed(1)} % of UDP datagrams lost (${result.lostPackets ?? '?'})`,
        metrics: {},
      });
    }
  }
  for (const ratio of data.ratios) {
    if (ratio.ratio >= OVERLAY_RATIO_FAIL) continue;
    const result = data.results.find(
      (candidate) => candidate.network === 'pod' && candidate.from === ratio.from && candidate.to === ratio.to,
    );
    if (!result) continue;
    flags.push({
      id: BW_IDS.overlayOverhead,
      result,
      summary: `${pairSubject(ratio)}: pod network ${formatBits(ratio.podBitsPerSecond)} is ${(100 * ratio.ratio).toFixed(0)} % of the host network's ${formatBits(ratio.hostBitsPerSecond)}`,
      metrics: { ratio: round(ratio.ratio, 3), hostBitsPerSecond: Math.round(ratio.hostBitsPerSecond) },
    });
  }
  return flags;
}

/** A don't-fragment ping between the pair's two ends, at the sender's interface MTU. */
export interface DontFragmentProbe {
  readonly command: string;
  readonly output: string;
  /** ICMP payload bytes of the full-size ping. */
  readonly size: number;
  readonly passed: boolean;
  /** Why the full-size ping failed (check's ping reasons: timeout, message-too-long, frag-needed …). */
  readonly reason?: string;
  /** Did a small ping pass? Without it a failed DF ping says nothing about the MTU (ICMP may be filtered). */
  readonly smallPassed: boolean;
}

/** What was seen on a pair's nodes around its test. */
export interface PairEvidence {
  /** Counter movements per node (both ends) during the test's round. */
  readonly counters: readonly { readonly node: string; readonly diff: CountersDiff }[];
  /** Interfaces with the same name on both nodes and different MTUs (the two nodes disagree). */
  readonly mtuMismatches: readonly { readonly name: string; readonly fromMtu: number; readonly toMtu: number }[];
  readonly dontFragment?: DontFragmentProbe;
  /** Evidence that could not be taken, and why (no node-inspector pod, exec failed …). */
  readonly unavailable: readonly string[];
  /** UDP: datagrams lost, and those the receiver's socket buffer dropped (Udp RcvbufErrors) during the test. */
  readonly udpLoss?: { readonly receiver: string; readonly lost: number; readonly bufferDropped: number };
}

/** The receiver's socket buffer dropped at least this share of the lost datagrams: the loss is the host's. */
const RECEIVER_SHARE = 0.5;

/**
 * A pair measured at a qdisc's rate: between these shares of it. Above: the qdisc counts link-layer headers iperf3's
 * payload rate does not, so the measure sits a few per cent below the rate, never much above. Below half, something
 * else holds the link down and the qdisc is not why.
 */
const SHAPED_RANGE = { low: 0.5, high: 1.1 } as const;

export interface CauseVerdict {
  readonly cause: BwCause;
  readonly summary: string;
  readonly evidence: readonly Evidence[];
  /** The node the cause is on when the evidence says which (a shaper's): doctor localises to it. */
  readonly node?: string;
}

/**
 * A rule that drops a share of packets at random (iptables `statistic --mode random`, nft `numgen random`): it slows
 * a link and makes it retransmit, but cannot be why no connection was made at all.
 */
const dropsAtRandom = (rule: FirewallRule): boolean =>
  /--mode random|--probability|"numgen":\{"mode":"random"/.test(rule.rule);

/** Long enough to show an iptables rule's matches, short enough for one summary line. */
const RULE_TEXT_CHARS = 80;
const ruleText = (rule: FirewallRule): string =>
  rule.rule.length > RULE_TEXT_CHARS ? `${rule.rule.slice(0, RULE_TEXT_CHARS - 1)}…` : rule.rule;

/** The measured direction a cause is looked for. */
export interface Measured {
  /** The test made no connection: a rule that drops everything it matches is named before one that drops at random. */
  readonly blocked: boolean;
  /** What arrived, bits/s; null when the test failed. */
  readonly bitsPerSecond: number | null;
  /** The node whose data was measured leaving; undefined when not known. */
  readonly sender?: string;
}

/** The likeliest cause, in the order of the module comment, with the evidence that names it. */
export function likeliestCause(
  evidence: PairEvidence | undefined,
  measured: Measured = { blocked: false, bitsPerSecond: null },
): CauseVerdict {
  const blocked = measured.blocked;
  if (!evidence) return { cause: 'none', summary: 'no evidence taken', evidence: [] };
  const lines: Evidence[] = [];
  const probe = evidence.dontFragment;
  if (probe) lines.push({ where: 'don’t-fragment ping', command: probe.command, output: trimOutput(probe.output, 6) });
  for (const mismatch of evidence.mtuMismatches) {
    lines.push({ where: 'interface MTU', output: `${mismatch.name}: ${mismatch.fromMtu} vs ${mismatch.toMtu}` });
  }
  for (const { node, diff } of evidence.counters) {
    const text = describeCountersDiff(diff);
    if (text) lines.push({ where: `node/${node} counters during the test`, output: trimOutput(text, 8) });
  }
  for (const reason of evidence.unavailable) lines.push({ where: 'evidence unavailable', output: reason });
  const udp = evidence.udpLoss;
  if (udp && udp.lost > 0 && udp.bufferDropped >= RECEIVER_SHARE * udp.lost) {
    lines.unshift({
      where: `node/${udp.receiver} receiving namespace during the test`,
      command: 'cat /proc/net/snmp (Udp: RcvbufErrors)',
      output: `RcvbufErrors +${udp.bufferDropped}; iperf3 counted ${udp.lost} datagrams lost`,
    });
    return {
      cause: 'receiver-buffer',
      summary: `the receiver's socket buffer overflowed: ${udp.bufferDropped} of the ${udp.lost} lost datagrams were dropped on ${udp.receiver} (Udp RcvbufErrors) — iperf3 there did not read as fast as they came`,
      evidence: lines,
    };
  }
  const dfFailed = probe !== undefined && !probe.passed && probe.smallPassed;
  if (dfFailed || evidence.mtuMismatches.length > 0) {
    const parts = [
      ...(dfFailed ? [`a ${probe.size}-byte don't-fragment ping does not pass (${probe.reason ?? 'no reply'})`] : []),
      ...evidence.mtuMismatches.map((m) => `${m.name} MTU ${m.fromMtu} vs ${m.toMtu}`),
    ];
    return { cause: 'mtu', summary: `MTU: ${parts.join('; ')}`, evidence: lines };
  }
  const drops = evidence.counters
    .flatMap(({ node, diff }) => diff.droppingRules.map((change) => ({ node, change })))
    .sort(
      (a, b) =>
        (blocked ? Number(dropsAtRandom(a.change.rule)) - Number(dropsAtRandom(b.change.rule)) : 0) ||
        b.change.packets - a.change.packets,
    );
  if (drops.length > 0) {
    const top = drops[0];
    const named = top
      ? `${top.change.rule.table} ${top.change.rule.chain} on ${top.node} dropped ${top.change.packets}: ${ruleText(top.change.rule)}`
      : '';
    return {
      cause: 'firewall',
      summary: `firewall: ${drops.length} DROP/REJECT rule(s) counted packets (${named})`,
      evidence: lines,
    };
  }
  const rate = measured.bitsPerSecond;
  const shaper = evidence.counters
    .flatMap(({ node, diff }) => diff.shapers.map((change) => ({ node, change })))
    // The sender's qdisc holds the test's data back; the receiver's only passes its ACKs.
    .sort((a, b) => Number(b.node === measured.sender) - Number(a.node === measured.sender))
    .find(
      ({ change }) =>
        rate !== null &&
        rate >= SHAPED_RANGE.low * change.qdisc.rateBitsPerSecond &&
        rate <= SHAPED_RANGE.high * change.qdisc.rateBitsPerSecond,
    );
  if (shaper && rate !== null) {
    const { qdisc, overlimits } = shaper.change;
    const role =
      measured.sender === undefined ? '' : shaper.node === measured.sender ? ' (the sender)' : ' (the receiver)';
    const held = overlimits > 0 ? ` (${overlimits} overlimits during the test)` : '';
    return {
      cause: 'shaper',
      node: shaper.node,
      summary: `traffic shaping: ${qdisc.device} on ${shaper.node}${role} is limited to ${formatBits(qdisc.rateBitsPerSecond)} by its ${qdisc.kind} qdisc${held}, and the pair measured ${formatBits(rate)}`,
      evidence: lines,
    };
  }
  const errors = evidence.counters.flatMap(({ node, diff }) =>
    diff.nicErrors.filter((change) => change.interface !== 'lo').map((change) => ({ node, change })),
  );
  if (errors.length > 0) {
    const top = errors[0];
    const named = top ? `${top.node} ${top.change.interface} ${top.change.counter} +${top.change.delta}` : '';
    return { cause: 'nic-errors', summary: `NIC errors: ${named}`, evidence: lines };
  }
  return { cause: 'none', summary: 'no NIC errors, firewall drops or MTU problem seen', evidence: lines };
}

const HINTS: Readonly<Record<BwCause, string>> = {
  'receiver-buffer':
    'the receiving host, not the network: test at a lower --bitrate, or give UDP sockets more buffer (sysctl net.core.rmem_max / net.core.rmem_default) if your applications send this fast',
  mtu: 'make the MTU of pods, CNI and node interfaces fit the path (kubectl netdiag check for the MTU matrix)',
  firewall: 'find the DROP/REJECT rule shown in the evidence on that node and remove or narrow it',
  'nic-errors': 'check the NIC, cable and driver of that node (ethtool -S), and its ring buffers',
  shaper:
    'a configured limit, not a fault: see it with tc -s qdisc show on that node; remove it (tc qdisc del dev DEVICE root) if it is not meant to be there — on a pod veth, the CNI bandwidth plugin sets it from the kubernetes.io/ingress-bandwidth and egress-bandwidth annotations',
  none: 'run again to rule out a passing load; kubectl netdiag node shows the nodes’ configuration',
};

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

function pairMetrics(result: PairResult): Record<string, MetricValue> {
  const metrics: Record<string, MetricValue> = { network: result.network, protocol: result.protocol };
  const numbers: [string, number | null][] = [
    ['bitsPerSecond', result.bitsPerSecond === null ? null : Math.round(result.bitsPerSecond)],
    ['retransmits', result.retransmits],
    ['rttMs', result.rttMs === null ? null : round(result.rttMs, 3)],
    ['lostPercent', result.lostPercent === null ? null : round(result.lostPercent, 3)],
    ['jitterMs', result.jitterMs === null ? null : round(result.jitterMs, 3)],
    ['receiveBufferErrors', result.receiveBufferErrors],
    ['cpuSender', result.cpu === null ? null : round(result.cpu.sender, 1)],
    ['cpuReceiver', result.cpu === null ? null : round(result.cpu.receiver, 1)],
  ];
  for (const [name, value] of numbers) if (value !== null) metrics[name] = value;
  return metrics;
}

/** Findings of a run: `bw.pair` for every measured direction, one finding per flag with its cause, CPU warnings. */
export function bwFindings(data: BwData, evidence: ReadonlyMap<string, PairEvidence>): Finding[] {
  const flags = flagPairs(data);
  const findings: Finding[] = [];
  const failedTests = new Set(flags.filter((flag) => flag.id === BW_IDS.pair).map((flag) => flag.result));
  for (const result of data.results) {
    if (failedTests.has(result)) continue;
    findings.push({
      id: BW_IDS.pair,
      subject: pairSubject(result),
      status: 'pass',
      summary: `${pairSubject(result)} (${result.network}): ${formatBits(result.bitsPerSecond ?? 0)}`,
      evidence: [],
      metrics: pairMetrics(result),
    });
    const cpu = result.cpu;
    if (cpu && Math.max(cpu.sender, cpu.receiver) > CPU_BOUND_PERCENT) {
      const end = cpu.sender >= cpu.receiver ? `sender ${result.from}` : `receiver ${result.to}`;
      findings.push({
        id: BW_IDS.cpuBound,
        subject: pairSubject(result),
        status: 'warn',
        summary: `${pairSubject(result)} (${result.network}): iperf3 used ${Math.max(cpu.sender, cpu.receiver).toFixed(0)} % of a CPU at the ${end}: this measures the CPU, not the network`,
        evidence: [],
        hint: 'run with fewer tests at once (--serial) or on idle nodes; more streams (--parallel) do not help a single-threaded iperf3',
        metrics: { ...pairMetrics(result), cpuSender: round(cpu.sender, 1), cpuReceiver: round(cpu.receiver, 1) },
      });
    }
  }
  for (const flag of flags) {
    const verdict = likeliestCause(evidence.get(resultKey(flag.result)), {
      blocked: flag.id === BW_IDS.pair,
      bitsPerSecond: flag.result.bitsPerSecond,
      sender: flag.result.from,
    });
    findings.push({
      id: flag.id,
      subject: pairSubject(flag.result),
      // The receiving host dropped what the network delivered: worth knowing, not a bad link.
      status: verdict.cause === 'receiver-buffer' ? 'warn' : 'fail',
      summary: `${flag.summary} — likeliest cause: ${verdict.summary}`,
      evidence: verdict.evidence,
      hint:
        flag.id === BW_IDS.pair && verdict.cause === 'none' ? failedTestHint(flag.result, data) : HINTS[verdict.cause],
      metrics: {
        ...pairMetrics(flag.result),
        ...flag.metrics,
        cause: verdict.cause,
        ...(verdict.node ? { causeNode: verdict.node } : {}),
      },
    });
  }
  return findings;
}

/** A test that did not run: the client could not reach the server's port (iperf3's client runs on the sender unless --reverse). */
function failedTestHint(result: PairResult, data: BwData): string {
  const [client, server] = data.test.reverse ? [result.to, result.from] : [result.from, result.to];
  return `check that ${server} accepts ${data.test.protocol === 'udp' ? 'TCP and UDP' : 'TCP'} port ${data.test.port} from ${client} (a firewall or NetworkPolicy), or pick another with --port`;
}
