/**
 * The shared fault driver: every lab fault that some command's scenarios need is injected ONCE, every scenario for it
 * runs (side by side, then the measuring ones alone), and the fault is healed in a `finally`. Scenarios come from
 * every `*.scenarios.js` next to this file (see registry.ts for the contract).
 *
 * Locking (the lab is shared; docs/lab.md): the driver takes the lab lock itself, exclusively from injection through
 * heal and shared for the healthy lab, so run it holding NOTHING — `node --test dist/test/e2e/faults/driver.test.js`,
 * never under `flock /tmp/netdiag-lab.lock` (its own exclusive request would then wait for your hold until it gives
 * up). `npm test` runs it after the e2e suite, holding nothing.
 *
 * Lab faults exist only on the lab, so the driver skips itself, saying why, when KUBECONFIG is not the lab's.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { haveCluster, kubeconfig, kubectl, kubectlOk, MANAGED, netdiag, repoRoot, waitFor } from '../harness.js';
import {
  DEFAULT_SCENARIO_TIMEOUT_MS,
  faultKey,
  planFaultRuns,
  type CliRun,
  type Fault,
  type FaultScenario,
  type ScenarioContext,
} from './registry.js';

const LOCK_FILE = '/tmp/netdiag-lab.lock';
/** How long to wait for the lab lock before failing: others' e2e runs hold it shared for minutes at a time. */
const LOCK_WAIT_S = 20 * 60;
const labScript = path.join(repoRoot, 'scripts', 'lab', 'lab');
const labState = process.env.NETDIAG_LAB_STATE ?? path.join(repoRoot, '.lab');
const labEnv = { ...process.env, NETDIAG_LAB_STATE: labState };

/** Why the driver cannot run here, or false when KUBECONFIG is the lab this checkout can fault. */
function notTheLab(): string | false {
  const labKubeconfig = path.join(labState, 'kubeconfig');
  if (!existsSync(labScript)) return `no lab script at ${labScript}: lab faults exist only on the lab`;
  if (!existsSync(labKubeconfig))
    return `no lab state at ${labState} (scripts/lab/lab up, or NETDIAG_LAB_STATE): lab faults exist only on the lab`;
  const current = kubeconfig.split(path.delimiter)[0]!;
  if (!existsSync(current) || realpathSync(current) !== realpathSync(labKubeconfig))
    return `KUBECONFIG (${current}) is not the lab's (${labKubeconfig}): lab faults exist only on the lab`;
  if (process.getuid?.() !== 0) return 'injecting lab faults needs root';
  if (!haveCluster()) return `the lab's API server does not answer (KUBECONFIG=${current})`;
  return false;
}

/** Runs `scripts/lab/lab ARGS` against the lab in NETDIAG_LAB_STATE; rejects with its output when it fails. */
function lab(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [labScript, ...args], { env: labEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (status) =>
      status === 0 ? resolve() : reject(new Error(`lab ${args.join(' ')} exited ${status}: ${output}`)),
    );
  });
}

/**
 * Takes the lab lock by running `flock` around a `cat` that lives as long as its stdin: closing stdin releases the
 * lock, and so does this process dying, so a crashed run cannot keep the lab locked.
 */
async function holdLabLock(mode: 'exclusive' | 'shared'): Promise<() => Promise<void>> {
  const flag = mode === 'exclusive' ? '-x' : '-s';
  const holder: ChildProcess = spawn(
    'flock',
    [flag, '-w', String(LOCK_WAIT_S), LOCK_FILE, 'sh', '-c', 'echo held; exec cat >/dev/null'],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const closed = new Promise<number | null>((resolve) => holder.on('close', resolve));
  const held = await new Promise<boolean>((resolve) => {
    holder.stdout!.once('data', () => resolve(true));
    void closed.then(() => resolve(false));
  });
  if (!held)
    throw new Error(
      `could not take the lab lock (${mode}) on ${LOCK_FILE} within ${LOCK_WAIT_S} s; ` +
        'run the fault driver holding no lab lock yourself (it locks per fault)',
    );
  let released: Promise<void> | undefined;
  return () => (released ??= (holder.stdin!.end(), closed.then(() => undefined)));
}

/**
 * The scenarios of every command: each `*.scenarios.js` in this folder exports `scenarios`. NETDIAG_FAULT_COMMANDS
 * (e.g. `doctor,dns`) keeps only those commands' scenarios, for a developer iterating on one command.
 */
async function loadScenarios(): Promise<FaultScenario[]> {
  const only = process.env.NETDIAG_FAULT_COMMANDS?.split(',').filter(Boolean);
  const folder = path.dirname(fileURLToPath(import.meta.url));
  const files = readdirSync(folder)
    .filter((name) => name.endsWith('.scenarios.js'))
    .sort();
  const loaded: FaultScenario[] = [];
  for (const file of files) {
    const module = (await import(path.join(folder, file))) as { scenarios?: readonly FaultScenario[] };
    assert.ok(Array.isArray(module.scenarios), `${file} must export scenarios: FaultScenario[]`);
    loaded.push(...module.scenarios);
  }
  return only ? loaded.filter((scenario) => only.includes(scenario.command)) : loaded;
}

/** The CLI as a user runs it, killed (and reported) when it overruns. */
async function runCli(args: readonly string[], timeoutMs: number, cwd: string): Promise<CliRun> {
  const run = netdiag(args, { cwd });
  const timer = setTimeout(() => run.child.kill('SIGINT'), timeoutMs);
  try {
    const result = await run.done;
    if (result.status === 130) assert.fail(`netdiag ${args.join(' ')} overran ${timeoutMs} ms: ${result.stderr}`);
    // The harness keeps stdout as latin1 (a capture is bytes); scenarios read -o json, which is UTF-8 (the → of a pair).
    return { ...result, stdout: Buffer.from(result.stdout, 'latin1').toString('utf8') };
  } finally {
    clearTimeout(timer);
  }
}

/** The lab after a heal: every kube-system pod (CoreDNS, nodelocaldns) Ready again before the next fault. */
function waitForSystemPods(): void {
  const wait = kubectl(['wait', '--for=condition=Ready', 'pods', '--all', '-n', 'kube-system', '--timeout=180s']);
  assert.equal(wait.status, 0, `kube-system pods not Ready after heal: ${wait.stderr}`);
}

/** Netdiag's pods, which every CLI run must have removed by the time it exits (a deletion may still be finishing). */
async function assertNothingLeft(): Promise<void> {
  const list = () => kubectlOk(['get', 'pods', '-A', '-l', MANAGED, '-o', 'name']).trim();
  await waitFor('netdiag pods to be gone', () => list() === '', 60_000, 2_000).catch(() =>
    assert.fail(`netdiag pods left behind: ${list()}`),
  );
}

const skip = notTheLab();
const scenarios = skip ? [] : await loadScenarios();
const scratch = mkdtempSync(path.join(tmpdir(), 'netdiag-faults-'));
const nodes = skip
  ? []
  : kubectlOk(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}']).split(' ').filter(Boolean).sort();
const started = Date.now();

describe('lab faults (each injected once, every command side by side)', { skip }, () => {
  after(() => {
    rmSync(scratch, { recursive: true, force: true });
    console.log(`fault driver: ${scenarios.length} scenarios in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  for (const faultRun of planFaultRuns(scenarios)) {
    const healthy = faultRun.fault.name === 'healthy';
    const scenarioCount = faultRun.parallel.length + faultRun.exclusive.length;
    it(`${faultKey(faultRun.fault)} (${scenarioCount} scenarios)`, async (t) => {
      const release = await holdLabLock(healthy ? 'shared' : 'exclusive');
      const begin = Date.now();
      try {
        if (!healthy) await lab(['fault', faultRun.fault.name, ...faultRun.fault.args]);
        const runScenario = (scenario: FaultScenario) =>
          t.test(
            `${scenario.command}: ${scenario.title}`,
            { timeout: (scenario.timeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS) + 30_000 },
            () => scenario.run(scenarioContext(faultRun.fault, scenario)),
          );
        await Promise.all(faultRun.parallel.map(runScenario));
        for (const scenario of faultRun.exclusive) await runScenario(scenario);
      } finally {
        try {
          if (!healthy) {
            await lab(['fault', 'heal']);
            waitForSystemPods();
            // Under the exclusive lock no one else runs netdiag, so any pod left is this fault's scenarios'.
            await assertNothingLeft();
          }
        } finally {
          await release();
          t.diagnostic(`${faultKey(faultRun.fault)}: ${((Date.now() - begin) / 1000).toFixed(1)} s, inject to heal`);
        }
      }
    });
  }
});

function scenarioContext(fault: Fault, scenario: FaultScenario): ScenarioContext {
  const timeoutMs = scenario.timeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS;
  const own = mkdtempSync(path.join(scratch, `${scenario.command}-`));
  return {
    fault,
    nodes,
    scratch: own,
    netdiag: (args, options = {}) => runCli(args, options.timeoutMs ?? timeoutMs, options.cwd ?? own),
    lab,
  };
}
