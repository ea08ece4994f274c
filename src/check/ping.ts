/**
 * ping, the one way every command runs it: the argv (count, deadline, don't-fragment at a size), reading what iputils
 * (the tools image) and busybox (alpine and distroless-debug pods) print, and why a ping failed, from its exit status
 * and output. Also the MTU search: which DF size to try next, and what the sizes that passed and failed mean.
 *
 * Pure: check, bw (DF evidence) and dns run the argv through their own exec and hand the output back here.
 */
import { reasonInText, type FailureReason } from './reasons.js';

/** The two ping implementations found in pods: iputils (Debian/Ubuntu, the tools image) and busybox (alpine). */
export type PingFlavour = 'iputils' | 'busybox';

export interface PingOptions {
  /** Echo requests to send; ping stops early when this many replies came back. */
  readonly count: number;
  /** Seconds after which ping exits whatever happened (`-w`): bounds a probe into a black hole. */
  readonly deadlineSeconds: number;
  /** Seconds between requests; iputils lets only root go below 0.2. Default: ping's own (1 s). */
  readonly intervalSeconds?: number;
  /**
   * Don't-fragment ping with this many ICMP payload bytes (`-M do -s SIZE`); the IPv4 packet is SIZE + 28. iputils
   * only: busybox ping cannot set DF.
   */
  readonly dontFragmentSize?: number;
}

/** IPv4 header (20) + ICMP echo header (8): a DF ping of SIZE payload bytes fits an MTU of SIZE + 28. */
export const ICMP_IPV4_OVERHEAD = 28;

/**
 * The argv of one ping. Numeric output (`-n`, no reverse lookups that slow every reply line); `-W 1` so a lost reply
 * is given up after a second rather than ten (busybox's default). Throws for busybox with DF: it has no `-M`.
 */
export function pingArgv(target: string, options: PingOptions, flavour: PingFlavour = 'iputils'): string[] {
  if (!Number.isInteger(options.count) || options.count < 1) throw new RangeError(`ping count ${options.count}`);
  if (!Number.isInteger(options.deadlineSeconds) || options.deadlineSeconds < 1) {
    throw new RangeError(`ping deadline ${options.deadlineSeconds}s`);
  }
  const argv = ['ping'];
  if (flavour === 'iputils') argv.push('-n');
  argv.push('-c', String(options.count), '-W', '1', '-w', String(options.deadlineSeconds));
  if (options.intervalSeconds !== undefined) argv.push('-i', String(options.intervalSeconds));
  if (options.dontFragmentSize !== undefined) {
    if (flavour === 'busybox') throw new RangeError('busybox ping cannot set the don’t-fragment bit');
    argv.push('-M', 'do', '-s', String(options.dontFragmentSize));
  }
  argv.push(target);
  return argv;
}

/** Why a ping got no reply: the reasons a ping can name. */
const PING_REASONS = [
  'timeout',
  'no-route',
  'unresolved',
  'message-too-long',
  'frag-needed',
  'filtered',
  'error',
] as const satisfies readonly FailureReason[];
export type PingFailureReason = (typeof PING_REASONS)[number];
const isPingReason = (reason: FailureReason): reason is PingFailureReason =>
  (PING_REASONS as readonly FailureReason[]).includes(reason);

export interface PingStatistics {
  readonly transmitted: number;
  readonly received: number;
  /** Errors iputils counted (ICMP errors and local send errors: the `+N errors`). busybox does not count them. */
  readonly errors: number;
  readonly lossPercent: number;
}

export interface PingRtt {
  readonly minMs: number;
  readonly avgMs: number;
  readonly maxMs: number;
}

/** What one ping printed, read into numbers and messages. */
export interface PingReport {
  /** The address ping resolved the target to (from its first line), when it got that far. */
  readonly address?: string;
  readonly statistics?: PingStatistics;
  readonly rtt?: PingRtt;
  /** Per-packet complaints: `From 10.233.64.1 icmp_seq=1 Frag needed and DF set (mtu = 1200)`, local errors. */
  readonly messages: readonly string[];
  /** The MTU a router or the local interface named for a DF packet that was too big. */
  readonly mtu?: number;
}

export type PingOutcome =
  | { readonly ok: true; readonly report: PingReport }
  | { readonly ok: false; readonly reason: PingFailureReason; readonly detail: string; readonly report: PingReport };

const FIRST_LINE = /^PING \S+ \(([0-9a-fA-F.:]+)\)/m;
// iputils: "2 packets transmitted, 2 received, +1 errors, 0% packet loss, time 1036ms"
// busybox: "2 packets transmitted, 2 packets received, 0% packet loss"
const STATISTICS =
  /^(\d+) packets transmitted, (\d+)(?: packets)? received,(?: \+(\d+) duplicates,)?(?: \+(\d+) errors,)? ([\d.]+)% packet loss/m;
// iputils: "rtt min/avg/max/mdev = 0.044/0.151/0.259/0.107 ms"; busybox: "round-trip min/avg/max = 0.052/0.063/0.074 ms"
const RTT = /^(?:rtt|round-trip) min\/avg\/max(?:\/mdev)? = ([\d.]+)\/([\d.]+)\/([\d.]+)/m;
const FROM_MESSAGE = /^From \S+ icmp_seq=\d+ .+$/gm;
const LOCAL_ERROR = /ping: local error: .+$/gm;
const MTU = /mtu ?=? ?(\d+)/;

/** Reads ping's stdout and stderr (either flavour) into a {@link PingReport}; missing parts stay undefined. */
export function parsePingOutput(stdout: string, stderr = ''): PingReport {
  const text = `${stdout}\n${stderr}`;
  const address = FIRST_LINE.exec(text)?.[1];
  const stats = STATISTICS.exec(text);
  const rtt = RTT.exec(text);
  const messages = [...(text.match(FROM_MESSAGE) ?? []), ...(text.match(LOCAL_ERROR) ?? [])].map((line) => line.trim());
  const mtuText = messages.map((message) => MTU.exec(message)?.[1]).find((value) => value !== undefined);
  return {
    ...(address === undefined ? {} : { address }),
    ...(stats === null
      ? {}
      : {
          statistics: {
            transmitted: Number(stats[1]),
            received: Number(stats[2]),
            errors: Number(stats[4] ?? 0),
            lossPercent: Number(stats[5]),
          },
        }),
    ...(rtt === null ? {} : { rtt: { minMs: Number(rtt[1]), avgMs: Number(rtt[2]), maxMs: Number(rtt[3]) } }),
    messages,
    ...(mtuText === undefined ? {} : { mtu: Number(mtuText) }),
  };
}

/**
 * Why a ping failed, or that it did not: any reply means the target is reachable (loss is in the report's
 * statistics). The exit status alone cannot say so: iputils and busybox both exit 1 when fewer replies than `-c`
 * came back before `-w`, iputils exits 2 on errors before sending (no route, no name), and 124 is `timeout(1)`
 * stopping a ping that outlived its bound.
 */
export function pingOutcome(exitCode: number, stdout: string, stderr = ''): PingOutcome {
  const report = parsePingOutput(stdout, stderr);
  if ((report.statistics?.received ?? 0) > 0) return { ok: true, report };
  const named = reasonInText(`${stdout}\n${stderr}`);
  const detailLine =
    report.messages[0] ??
    stderr
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line !== '');
  if (named !== undefined && isPingReason(named.reason)) {
    return { ok: false, reason: named.reason, detail: named.line, report };
  }
  if (exitCode === 124 || (report.statistics !== undefined && report.statistics.received === 0)) {
    const sent = report.statistics?.transmitted;
    return {
      ok: false,
      reason: 'timeout',
      detail: sent === undefined ? 'no reply before the deadline' : `no reply to ${sent} echo requests`,
      report,
    };
  }
  return { ok: false, reason: 'error', detail: detailLine ?? `ping exited ${exitCode}`, report };
}

// ---------------------------------------------------------------------------------------------------------------
// MTU: the DF size to try next, and what the results mean.

/** What is known about one path's DF sizes: payload sizes that got a reply and sizes that did not. */
export interface MtuSearch {
  /** Largest payload known to pass (a plain 56-byte ping that passed counts). */
  readonly largestPassing: number;
  /** Smallest payload known to fail. */
  readonly smallestFailing: number;
}

/**
 * The next DF payload sizes to try, `width` at once, splitting the gap between what passed and what failed evenly:
 * each round shrinks it `width + 1` times (8 at once: 1472 bytes in 4 rounds). Empty when the two are adjacent and
 * `largestPassing` is the answer.
 */
export function nextMtuProbes(search: MtuSearch, width: number): number[] {
  const { largestPassing: low, smallestFailing: high } = search;
  const sizes = new Set<number>();
  for (let step = 1; step <= width; step += 1) {
    const size = low + Math.round((step * (high - low)) / (width + 1));
    if (size > low && size < high) sizes.add(size);
  }
  return [...sizes];
}

/** Folds one DF ping result into the search. */
export function recordMtuProbe(search: MtuSearch, size: number, passed: boolean): MtuSearch {
  return passed
    ? { largestPassing: Math.max(search.largestPassing, size), smallestFailing: search.smallestFailing }
    : { largestPassing: search.largestPassing, smallestFailing: Math.min(search.smallestFailing, size) };
}

/** The payload of the largest DF ping an interface of this MTU can send. */
export const dfSizeForMtu = (mtu: number): number => mtu - ICMP_IPV4_OVERHEAD;

/** What the MTU checks of one path came to. */
export type MtuVerdict =
  | { readonly kind: 'ok'; readonly pathMtu: number }
  /**
   * Packets the pod interfaces allow are dropped with no ICMP "fragmentation needed" coming back: TCP's path MTU
   * discovery cannot learn the smaller size, so large transfers hang while small requests work.
   */
  | { readonly kind: 'black-hole'; readonly pathMtu: number; readonly interfaceMtu: number }
  /**
   * The sender was told the path's MTU: a router answered "fragmentation needed", or the kernel already holds that
   * answer for the route ("local error: message too long"). PMTUD works, but the pods' MTU is larger than the path.
   */
  | {
      readonly kind: 'fragmentation-needed';
      readonly pathMtu: number;
      readonly interfaceMtu: number;
      readonly reportedMtu: number;
    };

export interface MtuEvidence {
  /** MTU of the sending pod's interface. */
  readonly fromMtu: number;
  /** MTU of the receiving pod's interface. */
  readonly toMtu: number;
  /** Largest DF payload that got a reply (after the search when the full size failed). */
  readonly largestPassing: number;
  /** The failure of the first DF ping at the full size, when it failed. */
  readonly fullSizeFailure?: { readonly reason: FailureReason; readonly mtu?: number };
}

/**
 * The MTU conclusion for one path. Both pod interfaces should be able to exchange packets of the smaller of their
 * MTUs; when the largest DF ping that passes is smaller, the path (underlay, overlay) is narrower than the pods
 * think. Silent drops make it a black hole; an MTU named in the failure says the sender was told.
 */
export function mtuVerdict(evidence: MtuEvidence): MtuVerdict {
  const interfaceMtu = Math.min(evidence.fromMtu, evidence.toMtu);
  const pathMtu = evidence.largestPassing + ICMP_IPV4_OVERHEAD;
  const failure = evidence.fullSizeFailure;
  if (failure === undefined || pathMtu >= interfaceMtu) return { kind: 'ok', pathMtu };
  const told = failure.reason === 'message-too-long' || failure.reason === 'frag-needed';
  if (told && failure.mtu !== undefined) {
    return { kind: 'fragmentation-needed', pathMtu, interfaceMtu, reportedMtu: failure.mtu };
  }
  return { kind: 'black-hole', pathMtu, interfaceMtu };
}
