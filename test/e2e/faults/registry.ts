/**
 * The contract between the shared fault driver (driver.test.ts) and each command's fault scenarios
 * (`<command>.scenarios.ts` in this folder, exporting `scenarios`). A lab fault is slow to inject and heal and it
 * disturbs every other run, so the driver injects each distinct fault ONCE and runs every command's scenarios for it
 * side by side; a scenario only says which fault it needs and what its command must report under it.
 *
 * Scenarios assert on finding and diagnosis ids and subjects from `-o json`, never on prose.
 */
import assert from 'node:assert/strict';

/** The lab's faults (`scripts/lab/lab fault NAME ARGS...`, docs/lab.md) plus `healthy`, the lab with none. */
export type FaultName =
  | 'healthy'
  | 'loss'
  | 'rate'
  | 'mtu'
  | 'block'
  | 'apiserver-restart'
  | 'controller-manager-down'
  | 'nodelocaldns-down'
  | 'coredns-down'
  | 'coredns-slow'
  | 'upstream-down'
  | 'egress-block'
  | 'kube-proxy-broken'
  | 'podnet-split';

/** One fault with its arguments, exactly as `lab fault` takes them (nodes as `workerN`). */
export interface Fault {
  readonly name: FaultName;
  readonly args: readonly string[];
}

/**
 * The faults as the scenarios of every command use them. Scenarios that share a fault share one injection, so use
 * these rather than your own arguments unless your command truly needs others (that costs one more inject + heal).
 * The faulted nodes differ between faults so that "the right node" is asserted, not assumed.
 */
export const FAULTS = {
  healthy: { name: 'healthy', args: [] },
  kubeProxyBroken: { name: 'kube-proxy-broken', args: ['worker3'] },
  nodelocaldnsDown: { name: 'nodelocaldns-down', args: ['worker2'] },
  corednsDown: { name: 'coredns-down', args: [] },
  corednsSlow: { name: 'coredns-slow', args: ['1500'] },
  upstreamDown: { name: 'upstream-down', args: [] },
  egressBlock: { name: 'egress-block', args: ['worker1'] },
  podnetSplit: { name: 'podnet-split', args: ['worker1', 'worker2'] },
  mtu: { name: 'mtu', args: ['worker2', '1400'] },
  loss: { name: 'loss', args: ['worker3', '10'] },
  rate: { name: 'rate', args: ['worker2', '100'] },
  controllerManagerDown: { name: 'controller-manager-down', args: [] },
  apiserverRestart: { name: 'apiserver-restart', args: [] },
} as const satisfies Record<string, Fault>;

/** `worker2` → `worker2.kube.local`: the node name findings use as their subject. */
export const labNode = (short: string): string => `${short}.kube.local`;

/** A finding's subject for a node (`node/worker2.kube.local`) and for a pair (`worker1.kube.local→worker2.kube.local`). */
export const nodeSubject = (short: string): string => `node/${labNode(short)}`;
export const pairSubject = (from: string, to: string): string => `${labNode(from)}→${labNode(to)}`;

/** The cluster's nodes (full names) but the faulted one (`worker2`): where the fault must not show. */
export const otherNodes = (nodes: readonly string[], faulted: string): string[] =>
  nodes.filter((node) => node !== labNode(faulted));

/** What a scenario's command printed and how it exited. */
export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What the driver gives a scenario. */
export interface ScenarioContext {
  /** The fault in place while the scenario runs. */
  readonly fault: Fault;
  /** The cluster's nodes (full names), sorted. */
  readonly nodes: readonly string[];
  /** A directory of the scenario's own, removed when the driver ends (so a later fault's scenario may read it). */
  readonly scratch: string;
  /** Runs `bin/kubectl-netdiag ARGS` against the lab like a user (in `cwd`, default `scratch`); output collected. */
  netdiag(args: readonly string[], options?: { timeoutMs?: number; cwd?: string }): Promise<CliRun>;
  /** Runs `scripts/lab/lab ARGS`: for a scenario whose fault must strike again while its command runs. */
  lab(args: readonly string[]): Promise<void>;
}

export interface FaultScenario {
  readonly fault: Fault;
  /** The command it exercises (`doctor`, `dns`, ...), shown in the test's name. */
  readonly command: string;
  /** What it shows, shown in the test's name: `names kube-proxy on the faulted node`. */
  readonly title: string;
  /**
   * Measures (bandwidth, latency): runs alone, after the fault's other scenarios, so nothing else loads the lab while
   * it measures.
   */
  readonly exclusive?: boolean;
  /** Default {@link DEFAULT_SCENARIO_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  run(ctx: ScenarioContext): Promise<void>;
}

export const DEFAULT_SCENARIO_TIMEOUT_MS = 5 * 60_000;

/** The key two scenarios share a fault injection by: the fault's name and arguments. */
export const faultKey = (fault: Fault): string => [fault.name, ...fault.args].join(' ');

/** One injection: the fault, the scenarios that run side by side under it, then those that run alone. */
export interface FaultRun {
  readonly fault: Fault;
  readonly parallel: readonly FaultScenario[];
  readonly exclusive: readonly FaultScenario[];
}

/**
 * Order of injection, cheapest recovery first: the healthy lab needs no set-up; uplink faults (iptables rules, tc
 * qdiscs, an MTU) heal at once; DNS faults need pods or caches to come back; a restarted API server makes every
 * client re-establish its watches, so it goes last.
 */
const FAULT_ORDER: Readonly<Record<FaultName, number>> = {
  healthy: 0,
  block: 1,
  loss: 1,
  rate: 1,
  mtu: 1,
  'egress-block': 2,
  'podnet-split': 2,
  'upstream-down': 3,
  'nodelocaldns-down': 3,
  'kube-proxy-broken': 4,
  'coredns-slow': 5,
  'coredns-down': 6,
  'controller-manager-down': 7,
  'apiserver-restart': 8,
};

/** Groups scenarios into one run per distinct fault, in {@link FAULT_ORDER}; within a rank by key, stable. */
export function planFaultRuns(scenarios: readonly FaultScenario[]): FaultRun[] {
  const byKey = new Map<string, { fault: Fault; parallel: FaultScenario[]; exclusive: FaultScenario[] }>();
  for (const scenario of scenarios) {
    const key = faultKey(scenario.fault);
    let run = byKey.get(key);
    if (!run) {
      run = { fault: scenario.fault, parallel: [], exclusive: [] };
      byKey.set(key, run);
    }
    (scenario.exclusive ? run.exclusive : run.parallel).push(scenario);
  }
  return [...byKey.values()].sort(
    (a, b) =>
      FAULT_ORDER[a.fault.name] - FAULT_ORDER[b.fault.name] || faultKey(a.fault).localeCompare(faultKey(b.fault)),
  );
}

/** The part of a finding or a diagnosis a scenario asserts on. */
export interface Reported {
  readonly id: string;
  readonly subject: string;
  readonly status?: string;
  readonly severity?: string;
}

/** A command's `-o json` output; fails with what it printed when it is not JSON. */
export function parseJson<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    assert.fail(
      `expected JSON on stdout (exit ${run.status}); stdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(-2000)}`,
    );
  }
}

/**
 * Asserts that `items` holds one with this id and subject (and status/severity when given); on failure the message
 * lists what was reported instead, so a wrong node or id is obvious from the test output.
 */
export function assertReported(items: readonly Reported[], expected: Reported): void {
  const found = items.find(
    (item) =>
      item.id === expected.id &&
      item.subject === expected.subject &&
      (expected.status === undefined || item.status === expected.status) &&
      (expected.severity === undefined || item.severity === expected.severity),
  );
  if (found) return;
  const seen = items.map((item) => `  ${item.id} ${item.subject} ${item.status ?? item.severity ?? ''}`).join('\n');
  assert.fail(`expected ${JSON.stringify(expected)} among:\n${seen || '  (nothing)'}`);
}

/** Asserts that nothing with this id (and, when given, this subject) is reported with one of `statuses`. */
export function assertNotReported(
  items: readonly Reported[],
  id: string,
  statuses: readonly string[],
  subject?: string,
): void {
  const offending = items.filter(
    (item) =>
      item.id === id &&
      (subject === undefined || item.subject === subject) &&
      statuses.includes(item.status ?? item.severity ?? ''),
  );
  assert.deepEqual(offending, [], `${id} must not be reported as ${statuses.join('/')}`);
}
