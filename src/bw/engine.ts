/**
 * The bw engine: one iperf3 server per node and network (the helper pod's main process), the scheduled rounds run one
 * after the other with their tests in parallel, the nodes' counters read before and after every round, and for every
 * bad link the evidence (counters that moved, MTUs, a don't-fragment ping) that names its likeliest cause.
 *
 * Stopping (the context's signal) ends the run after the finished rounds: the result then holds those pairs and says
 * it was interrupted; the command prints it and exits 130. Remote processes need no killing: the session deletes the
 * pods, and every server and client is bounded by `timeout` in case nobody does.
 */
import { Writable } from 'node:stream';
import { dfSizeForMtu, pingArgv, pingOutcome } from '../check/ping.js';
import type { DiagnosticResult, Unavailable } from '../findings/model.js';
import { boundedArgv } from '../kube/bounded.js';
import type { DiagnosticContext } from '../kube/context.js';
import { execInPod } from '../kube/exec.js';
import { extendProfile, type Fleet } from '../kube/fleet.js';
import { mapBounded } from '../lib/concurrency.js';
import { formatBits } from '../lib/units.js';
import {
  countersArgv,
  diffCounters,
  parseCounters,
  SNMP_ARGV,
  udpReceiveBufferErrors,
  type CounterSnapshot,
  type CountersDiff,
} from '../node/counters.js';
import { bwFindings, flagPairs, pairSubject, resultKey, type PairEvidence } from './checks.js';
import {
  clientArgv,
  clientBoundSeconds,
  parseIperfJson,
  parseRateSample,
  serverArgv,
  type TestOutcome,
} from './iperf.js';
import type { BwData, BwOptions, Network, PairResult } from './model.js';
import {
  mtuMismatches,
  networkRatios,
  routeMtu,
  routeMtuArgv,
  testsFor,
  toResults,
  withReceiveBufferErrors,
} from './results.js';
import { pairKey, schedulePairs, type Pair } from './schedule.js';

/** Counter snapshots and probes are quick reads; a node that takes longer is reported without them. */
const READ_TIMEOUT_MS = 20_000;
/** How often the live rate of a round's tests is shown. */
const LIVE_RATE_EVERY_MS = 2_000;
/** Evidence probes run for this many flagged pairs at once. */
const PROBE_CONCURRENCY = 8;

/** Seconds a whole run may take at most (every round of every network, with counter reads), for the servers' bound. */
export function runBoundSeconds(options: Pick<BwOptions, 'test'>, rounds: number): number {
  return rounds * (clientBoundSeconds(options.test) + (2 * READ_TIMEOUT_MS) / 1000) + 120;
}

interface RoundOutcome {
  readonly results: PairResult[];
  /** Counter movement per node during the round. */
  readonly moved: Map<string, CountersDiff>;
  /** The after-round snapshot per node (MTUs). */
  readonly after: Map<string, CounterSnapshot>;
}

export async function runBw(ctx: DiagnosticContext, options: BwOptions): Promise<DiagnosticResult<BwData>> {
  const tests = testsFor(options);
  const schedule = schedulePairs(tests, { serial: options.serial });
  const bound = runBoundSeconds(options, schedule.rounds.length * options.networks.length);
  const nodes = [...options.nodes];
  const fleets = new Map<Network, Fleet>();
  const [inspector, ...iperfFleets] = await Promise.all([
    ctx.fleets.get('node-inspector', nodes),
    ...options.networks.map((network) =>
      ctx.fleets.get(
        extendProfile(network === 'pod' ? 'pod-probe' : 'host-probe', {
          name: `iperf3-${network}`,
          command: serverArgv(options.test.port, bound, clientBoundSeconds(options.test)),
          ports: [{ containerPort: options.test.port, protocol: 'TCP' }],
        }),
        nodes,
      ),
    ),
  ]);
  options.networks.forEach((network, index) => {
    const fleet = iperfFleets[index];
    if (fleet) fleets.set(network, fleet);
  });
  const unavailable: Unavailable[] = [...(inspector?.unavailable ?? []), ...iperfFleets.flatMap((f) => f.unavailable)];

  const results: PairResult[] = [];
  const moved = new Map<string, CountersDiff>();
  const after = new Map<string, CounterSnapshot>();
  const started = Date.now();
  // Tests between nodes without a server or client pod cannot run; those nodes are in `unavailable` with the reason.
  const plans = options.networks.flatMap((network) => {
    const fleet = fleets.get(network);
    if (!fleet) return [];
    const runnable = tests.filter((test) => fleet.member(test.from) && fleet.member(test.to));
    return [{ network, fleet, schedule: schedulePairs(runnable, { serial: options.serial }) }];
  });
  const scheduled = plans.map(({ network, schedule: planned }) => ({
    network,
    rounds: planned.rounds.length,
    lowerBound: planned.lowerBound,
    optimal: planned.optimal,
  }));
  // Round k of every network before round k+1: a pair's pod and host numbers are taken close together in time, so
  // a load that comes and goes does not show up as pod ÷ host.
  const roundCount = Math.max(0, ...plans.map((plan) => plan.schedule.rounds.length));
  for (let index = 0; index < roundCount && !ctx.signal.aborted; index += 1) {
    for (const { network, fleet, schedule: planned } of plans) {
      const round = planned.rounds[index];
      if (!round || ctx.signal.aborted) continue;
      const title = `${network} network: round ${index + 1} of ${planned.rounds.length}`;
      try {
        const outcome = await ctx.progress.step(title, (detail) =>
          runRound(ctx, options, fleet, inspector, network, index + 1, round, detail),
        );
        results.push(...outcome.results);
        for (const [node, diff] of outcome.moved) moved.set(`${network}/${index + 1}/${node}`, diff);
        for (const [node, snapshot] of outcome.after) after.set(node, snapshot);
      } catch (err) {
        if (!ctx.signal.aborted) throw err;
      }
    }
  }
  const interrupted = ctx.signal.aborted;
  const wallTimeMs = Date.now() - started;

  const data: BwData = {
    nodes,
    networks: options.networks,
    test: options.test,
    serial: options.serial,
    minBitsPerSecond: options.minBitsPerSecond ?? null,
    schedule: scheduled,
    results,
    ratios: networkRatios(results),
    wallTimeMs,
    interrupted,
  };
  const evidence = interrupted
    ? new Map<string, PairEvidence>()
    : await ctx.progress.step('looking for causes of bad links', () => gatherEvidence(ctx, data, fleets, moved, after));
  return { command: 'bw', data, findings: bwFindings(data, evidence), unavailable };
}

/** One round: counters before, the tests in parallel with their live rate, counters after. */
async function runRound(
  ctx: DiagnosticContext,
  options: BwOptions,
  fleet: Fleet,
  inspector: Fleet | undefined,
  network: Network,
  roundNumber: number,
  round: readonly Pair[],
  detail: (text: string) => void,
): Promise<RoundOutcome> {
  const roundNodes = round.flatMap((test) => [test.from, test.to]);
  const readers = inspector?.restrictedTo(roundNodes);
  const before = await snapshots(readers);
  const rates = new Map<string, number>();
  let shownAt = 0;
  // Every 2 s at most: plain progress (CI logs) prints each change on its own line.
  const show = () => {
    if (Date.now() - shownAt < LIVE_RATE_EVERY_MS) return;
    shownAt = Date.now();
    detail(round.map((test) => `${pairSubject(test)} ${formatBits(rates.get(pairKey(test)) ?? 0)}`).join(', '));
  };
  detail(round.map(pairSubject).join(', '));
  const udp = options.test.protocol === 'udp';
  const measured = await Promise.all(
    round.map(async (test) => {
      const ends = [test.from, test.to];
      const before = udp ? await receiveBufferErrors(fleet, ends) : undefined;
      const outcome = await runTest(ctx, options, fleet, test, (rate) => {
        rates.set(pairKey(test), rate);
        show();
      });
      const after = udp ? await receiveBufferErrors(fleet, ends) : undefined;
      return toResults({ ...test, network }, roundNumber, options, outcome).map((result) =>
        withReceiveBufferErrors(result, before, after),
      );
    }),
  );
  const afterRound = await snapshots(readers);
  const moved = new Map<string, CountersDiff>();
  for (const [node, snapshot] of afterRound) {
    const earlier = before.get(node);
    if (earlier) moved.set(node, diffCounters(earlier, snapshot));
  }
  return { results: measured.flat(), moved, after: afterRound };
}

async function snapshots(readers: Fleet | undefined): Promise<Map<string, CounterSnapshot>> {
  if (!readers) return new Map();
  const outcomes = await readers.execAll(countersArgv(), (output) => parseCounters(output.stdout), {
    timeoutMs: READ_TIMEOUT_MS,
  });
  return new Map(outcomes.flatMap((outcome) => (outcome.ok ? [[outcome.node, outcome.value] as const] : [])));
}

/**
 * UDP tests: each end's `Udp: RcvbufErrors`, read in its helper pod (the test's own network namespace on the pod
 * network, the node's on the host network). A node that does not answer is left out.
 */
async function receiveBufferErrors(fleet: Fleet, nodes: readonly string[]): Promise<Map<string, number>> {
  const read = await Promise.all(
    nodes.map(async (node) => {
      const output = await fleet.exec(node, SNMP_ARGV, { timeoutMs: READ_TIMEOUT_MS }).catch(() => undefined);
      const value = output?.exitCode === 0 ? udpReceiveBufferErrors(output.stdout) : undefined;
      return value === undefined ? [] : [[node, value] as const];
    }),
  );
  return new Map(read.flat());
}

/** Runs one client, streaming its stderr for the live rate; the JSON comes on stdout at the end. */
async function runTest(
  ctx: DiagnosticContext,
  options: BwOptions,
  fleet: Fleet,
  test: Pair,
  onRate: (bitsPerSecond: number) => void,
): Promise<TestOutcome> {
  const client = fleet.member(test.from);
  const server = fleet.member(test.to);
  if (!client || !server) return { ok: false, error: 'no helper pod' };
  const target = fleet.profile.hostNetwork ? server.hostIP : server.podIP;
  const stdout: Buffer[] = [];
  let stderrText = '';
  let last: { tx: number; rx: number; at: number } | undefined;
  const stderr = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      stderrText += chunk.toString('utf8');
      const lines = stderrText.split('\n');
      stderrText = lines.pop() ?? '';
      for (const line of lines) {
        const sample = parseRateSample(line);
        if (!sample) continue;
        const at = Date.now();
        if (last && at > last.at) {
          const bytes = Math.max(sample.tx - last.tx, sample.rx - last.rx);
          onRate((bytes * 8 * 1000) / (at - last.at));
        }
        last = { ...sample, at };
      }
      callback();
    },
  });
  const seconds = clientBoundSeconds(options.test);
  try {
    const result = await execInPod(ctx.client, {
      namespace: client.namespace,
      pod: client.pod,
      container: 'tools',
      command: boundedArgv(clientArgv(target, options.test), { seconds }),
      stdout: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          stdout.push(chunk);
          callback();
        },
      }),
      stderr,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout((seconds + 15) * 1000)]),
    });
    return parseIperfJson(Buffer.concat(stdout).toString('utf8'), stderrText, result.exitCode);
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Evidence for each flagged direction: its round's counter movements on both nodes, MTUs, a DF ping. */
async function gatherEvidence(
  ctx: DiagnosticContext,
  data: BwData,
  fleets: ReadonlyMap<Network, Fleet>,
  moved: ReadonlyMap<string, CountersDiff>,
  after: ReadonlyMap<string, CounterSnapshot>,
): Promise<Map<string, PairEvidence>> {
  const flagged = [...new Map(flagPairs(data).map((flag) => [resultKey(flag.result), flag.result])).values()];
  const entries = await mapBounded(flagged, PROBE_CONCURRENCY, async (result) => {
    const unavailableEvidence: string[] = [];
    const counters = [result.from, result.to].flatMap((node) => {
      const diff = moved.get(`${result.network}/${result.round}/${node}`);
      if (!diff) unavailableEvidence.push(`no counters from ${node} (its node-inspector pod did not answer)`);
      return diff ? [{ node, diff }] : [];
    });
    const fleet = fleets.get(result.network);
    const dontFragment = fleet ? await dontFragmentProbe(ctx, fleet, result).catch(() => undefined) : undefined;
    if (!dontFragment) unavailableEvidence.push(`no don't-fragment ping from ${result.from}`);
    const evidence: PairEvidence = {
      counters,
      mtuMismatches: mtuMismatches(after.get(result.from), after.get(result.to)),
      ...(dontFragment ? { dontFragment } : {}),
      unavailable: unavailableEvidence,
      ...(result.lostPackets !== null && result.receiveBufferErrors !== null
        ? { udpLoss: { receiver: result.to, lost: result.lostPackets, bufferDropped: result.receiveBufferErrors } }
        : {}),
    };
    return [resultKey(result), evidence] as const;
  });
  return new Map(entries);
}

/**
 * From the sender's helper: the MTU of the interface towards the receiver, then a don't-fragment ping of that full
 * size and a small ping (a failed DF ping means nothing if no ping passes at all).
 */
async function dontFragmentProbe(
  ctx: DiagnosticContext,
  fleet: Fleet,
  result: PairResult,
): Promise<PairEvidence['dontFragment']> {
  const receiver = fleet.member(result.to);
  if (!receiver || !fleet.member(result.from)) return undefined;
  const target = fleet.profile.hostNetwork ? receiver.hostIP : receiver.podIP;
  const route = await fleet.exec(result.from, routeMtuArgv(target), { timeoutMs: READ_TIMEOUT_MS });
  const mtu = routeMtu(route.stdout);
  if (mtu === undefined) return undefined;
  const size = dfSizeForMtu(mtu);
  const fullArgv = pingArgv(target, { count: 2, deadlineSeconds: 3, dontFragmentSize: size });
  const [full, small] = await Promise.all([
    fleet.exec(result.from, fullArgv, { timeoutMs: READ_TIMEOUT_MS }),
    fleet.exec(result.from, pingArgv(target, { count: 2, deadlineSeconds: 3 }), { timeoutMs: READ_TIMEOUT_MS }),
  ]);
  const fullOutcome = pingOutcome(full.exitCode, full.stdout, full.stderr);
  return {
    command: `${fullArgv.join(' ')} (interface MTU ${mtu})`,
    output: `${full.stdout}${full.stderr}`,
    size,
    passed: fullOutcome.ok,
    ...(fullOutcome.ok ? {} : { reason: fullOutcome.reason }),
    smallPassed: pingOutcome(small.exitCode, small.stdout, small.stderr).ok,
  };
}
