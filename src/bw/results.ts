/**
 * bw's pure steps between the schedule and the findings: which iperf3 tests cover the requested directions, a test's
 * outcome as measured directions, pod ÷ host ratios, and reading the MTU evidence. Unit-tested; the engine does I/O.
 */
import type { TestOutcome } from './iperf.js';
import type { BwOptions, Network, NetworkRatio, PairResult } from './model.js';
import type { PairEvidence } from './checks.js';
import { pairSubject } from './checks.js';
import { parseNicStatistics, type CounterSnapshot } from '../node/counters.js';
import { pairKey, type Pair } from './schedule.js';

/** One iperf3 run on one network: the client on `from` connects to the server on `to`. */
export type Test = Pair & { readonly network: Network };

/**
 * The tests that cover the requested directions: the client is the sender (the receiver with --reverse); with --bidir
 * one test measures both directions, so a→b and b→a are one test.
 */
export function testsFor(options: Pick<BwOptions, 'pairs' | 'test'>): Pair[] {
  const tests: Pair[] = [];
  const seen = new Set<string>();
  for (const pair of options.pairs) {
    const test = options.test.reverse ? { from: pair.to, to: pair.from } : pair;
    if (options.test.bidir && seen.has(pairKey({ from: test.to, to: test.from }))) continue;
    seen.add(pairKey(test));
    tests.push(test);
  }
  return tests;
}

/** A test's outcome as measured directions: one, or two with --bidir (the second one server→client). */
export function toResults(
  test: Test,
  round: number,
  options: Pick<BwOptions, 'test'>,
  outcome: TestOutcome,
): PairResult[] {
  const base = { network: test.network, protocol: options.test.protocol, round };
  if (!outcome.ok) {
    const directions: Pair[] = options.test.bidir
      ? [test, { from: test.to, to: test.from }]
      : [options.test.reverse ? { from: test.to, to: test.from } : test];
    return directions.map((pair) => ({ ...pair, ...base, ...emptyNumbers, error: outcome.error }));
  }
  return outcome.results.map((direction) => {
    const [from, to] = direction.direction === 'forward' ? [test.from, test.to] : [test.to, test.from];
    return {
      from,
      to,
      ...base,
      bitsPerSecond: direction.bitsPerSecond,
      sentBitsPerSecond: direction.sentBitsPerSecond,
      bytesSent: direction.bytesSent,
      retransmits: direction.retransmits ?? null,
      rttMs: direction.rttMs ?? null,
      jitterMs: direction.jitterMs ?? null,
      lostPackets: direction.lostPackets ?? null,
      lostPercent: direction.lostPercent ?? null,
      receiveBufferErrors: null,
      cpu: direction.cpu ?? null,
      error: null,
    };
  });
}

/**
 * A direction with the socket-buffer drops its receiver counted between `before` and `after` (UDP tests); as it is
 * when either read is missing. Pure.
 */
export function withReceiveBufferErrors(
  result: PairResult,
  before: ReadonlyMap<string, number> | undefined,
  after: ReadonlyMap<string, number> | undefined,
): PairResult {
  const [earlier, later] = [before?.get(result.to), after?.get(result.to)];
  if (earlier === undefined || later === undefined) return result;
  return { ...result, receiveBufferErrors: Math.max(0, later - earlier) };
}

const emptyNumbers = {
  bitsPerSecond: null,
  sentBitsPerSecond: null,
  bytesSent: null,
  retransmits: null,
  rttMs: null,
  jitterMs: null,
  lostPackets: null,
  lostPercent: null,
  receiveBufferErrors: null,
  cpu: null,
} as const;

/** Pod ÷ host for every direction measured on both networks. */
export function networkRatios(results: readonly PairResult[]): NetworkRatio[] {
  const host = new Map(
    results.filter((result) => result.network === 'host').map((result) => [pairSubject(result), result.bitsPerSecond]),
  );
  return results.flatMap((result) => {
    const hostRate = host.get(pairSubject(result));
    if (result.network !== 'pod' || result.bitsPerSecond === null || !hostRate) return [];
    return [
      {
        from: result.from,
        to: result.to,
        podBitsPerSecond: result.bitsPerSecond,
        hostBitsPerSecond: hostRate,
        ratio: result.bitsPerSecond / hostRate,
      },
    ];
  });
}

/** Interfaces both nodes have (by name, loopback aside) whose MTUs differ. */
export function mtuMismatches(
  from: CounterSnapshot | undefined,
  to: CounterSnapshot | undefined,
): PairEvidence['mtuMismatches'] {
  if (!from || !to) return [];
  const theirs = new Map(to.interfaces.map((entry) => [entry.name, entry.mtu]));
  return from.interfaces.flatMap((entry) => {
    const other = theirs.get(entry.name);
    if (entry.name === 'lo' || entry.mtu === undefined || other === undefined || other === entry.mtu) return [];
    return [{ name: entry.name, fromMtu: entry.mtu, toMtu: other }];
  });
}

/** The route to `target` and every interface's MTU, to find the MTU of the interface the route uses. */
export const routeMtuArgv = (target: string): string[] => [
  'sh',
  '-c',
  'ip -o route get "$1"; grep -H . /sys/class/net/*/mtu',
  'route-mtu',
  target,
];

/** Reads {@link routeMtuArgv}'s output: `… dev eth0 …` then `/sys/class/net/eth0/mtu:1500` lines. */
export function routeMtu(output: string): number | undefined {
  const device = / dev (\S+)/.exec(output)?.[1];
  return parseNicStatistics(output).find((entry) => entry.name === device)?.mtu;
}
