/**
 * The doctor engine: preflight once for everything, then the other engines in ONE run sharing the context (so their
 * fleets are the same pods): those that only probe run side by side, the one that measures (bw) alone after them.
 * Their findings go through the correlation rules; a baseline, when given, is compared; failing paths are captured
 * when asked. An engine that fails is a step that failed (its reason in the report), not the end of the run; an
 * interruption ends everything (the command's session cleans up).
 */
import { type BwData } from '../bw/model.js';
import { type CheckData } from '../check/engine.js';
import { type DnsData } from '../dns/engine.js';
import { type DiagnosticContext } from '../kube/context.js';
import { type NodeData } from '../node/engine.js';
import { mapBounded } from '../lib/concurrency.js';
import { type Progress } from '../lib/progress.js';
import { preflight, type AccessRequirement } from '../kube/preflight.js';
import { type DiagnosticResult, type Finding, type Unavailable } from '../findings/model.js';
import { compareBaseline } from './baseline.js';
import { type BundleFile } from '../node/bundle.js';
import { type DoctorOptions } from './options.js';
import { type DoctorCapture, type DoctorResult, type DoctorStep } from './report.js';
import { DoctorIds } from './ids.js';
import { correlate, type Diagnosis } from './rules.js';

export type EngineName = 'node' | 'dns' | 'check' | 'bw';

/** One of the commands doctor runs, as doctor sees it. */
export interface DoctorEngine {
  readonly name: EngineName;
  /** Measures (bandwidth): runs alone, after the others, so their probes do not load the paths it measures. */
  readonly measures: boolean;
  /** What it needs allowed (preflight asks once for every engine). */
  requirements(namespace: string): readonly AccessRequirement[];
  run(ctx: DiagnosticContext, options: DoctorOptions): Promise<EngineOutput>;
}

/** An engine's result, and the files it adds to a `--bundle` (empty without one). */
export interface EngineOutput {
  readonly result: DiagnosticResult<unknown>;
  readonly files: readonly BundleFile[];
}

/** What the engines produced, by name (absent when an engine did not run or failed), their files, the steps. */
export interface EngineRuns {
  readonly results: Partial<Record<EngineName, DiagnosticResult<unknown>>>;
  readonly files: BundleFile[];
  readonly steps: DoctorStep[];
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The progress an engine gets inside doctor's task tree: its steps become the sub-line of its task (one listr2
 * tree on screen, not one per engine fighting over the terminal); messages go to the run's progress.
 */
export function nestedProgress(parent: Progress, detail: (text: string) => void): Progress {
  const settle = async <T>(run: () => Promise<T>): Promise<PromiseSettledResult<T>> => {
    try {
      return { status: 'fulfilled', value: await run() };
    } catch (reason) {
      return { status: 'rejected', reason };
    }
  };
  return {
    step: (title, task) => {
      detail(title);
      return task((text) => detail(`${title}: ${text}`));
    },
    tasks: (title, tasks, options) => {
      detail(title);
      return mapBounded(tasks, options?.concurrency ?? tasks.length, (child) =>
        settle(() => child.run((text) => detail(`${title}: ${child.title}: ${text}`))),
      );
    },
    info: (message) => parent.info(message),
    warn: (message) => parent.warn(message),
    debug: (message) => parent.debug(message),
  };
}

/**
 * Runs the engines: the probing ones as one task tree side by side, then each measuring one alone. A failed engine
 * becomes a failed step; an interruption rejects.
 */
export async function runEngines(
  ctx: DiagnosticContext,
  options: DoctorOptions,
  engines: readonly DoctorEngine[],
): Promise<EngineRuns> {
  const results: Partial<Record<EngineName, DiagnosticResult<unknown>>> = {};
  const files: BundleFile[] = [];
  const steps: DoctorStep[] = [];
  const phase = async (title: string, group: readonly DoctorEngine[]) => {
    if (group.length === 0) return;
    const started = group.map(() => Date.now());
    const durations: number[] = [];
    const outcomes = await ctx.progress.tasks(
      title,
      group.map((engine, index) => ({
        title: engine.name,
        run: async (detail: (text: string) => void) => {
          started[index] = Date.now();
          try {
            return await engine.run({ ...ctx, progress: nestedProgress(ctx.progress, detail) }, options);
          } finally {
            durations[index] = Date.now() - started[index]!;
          }
        },
      })),
      { concurrency: group.length },
    );
    if (ctx.signal.aborted) throw ctx.signal.reason;
    outcomes.forEach((outcome, index) => {
      const engine = group[index]!;
      const durationMs = durations[index] ?? 0;
      if (outcome.status === 'fulfilled') {
        results[engine.name] = outcome.value.result;
        files.push(...outcome.value.files);
        steps.push({ name: engine.name, status: 'ok', durationMs });
      } else steps.push({ name: engine.name, status: 'failed', durationMs, reason: errorMessage(outcome.reason) });
    });
  };
  await phase(
    'probing (side by side)',
    engines.filter((engine) => !engine.measures),
  );
  for (const engine of engines.filter((candidate) => candidate.measures)) await phase('measuring (alone)', [engine]);
  return { results, files, steps };
}

/** The finding of a command doctor could not run (`doctor.step`, subject `cluster`). */
export function stepFinding(step: DoctorStep): Finding[] {
  if (step.status !== 'failed') return [];
  return [
    {
      id: DoctorIds.step,
      subject: 'cluster',
      status: 'fail',
      summary: `${step.name} did not run: ${step.reason ?? 'unknown reason'}`,
      evidence: [{ where: 'doctor', command: `kubectl netdiag ${step.name}` }],
      hint: `run kubectl netdiag ${step.name} -v to see why; the diagnoses above do not cover what it checks`,
      metrics: { step: step.name },
    },
  ];
}

/** Unavailable nodes of every engine, once per node and profile. */
function mergeUnavailable(results: readonly DiagnosticResult<unknown>[]): Unavailable[] {
  const seen = new Map<string, Unavailable>();
  for (const entry of results.flatMap((result) => result.unavailable))
    seen.set(`${entry.node}|${entry.profile}`, entry);
  return [...seen.values()];
}

/** Takes the captures for the diagnosed broken paths (capture.ts); given by the command with --capture-failures. */
export type FailureCapturer = (ctx: DiagnosticContext, diagnoses: readonly Diagnosis[]) => Promise<DoctorCapture[]>;

/** doctor's result, and the files for `--bundle` (the engines' and the captures'). */
export interface DoctorRun {
  readonly result: DoctorResult;
  readonly files: readonly BundleFile[];
}

export async function runDoctor(
  ctx: DiagnosticContext,
  options: DoctorOptions,
  engines: readonly DoctorEngine[],
  captureFailures?: FailureCapturer,
): Promise<DoctorRun> {
  const chosen = engines.filter((engine) => !(options.quick && engine.measures));
  const preflightStarted = Date.now();
  await ctx.progress.step('preflight: permissions for every check', () =>
    preflight(
      ctx.client,
      chosen.flatMap((engine) => engine.requirements(ctx.namespace)),
      ctx.namespace,
      { signal: ctx.signal },
    ),
  );
  const preflightStep: DoctorStep = { name: 'preflight', status: 'ok', durationMs: Date.now() - preflightStarted };
  const { results, files, steps } = await runEngines(ctx, options, chosen);
  const skipped: DoctorStep[] = engines
    .filter((engine) => !chosen.includes(engine))
    .map((engine) => ({ name: engine.name, status: 'skipped', durationMs: 0, reason: '--quick' }));
  const ran = Object.values(results);
  // A command that could not run is a failure of the run, not silence: it is listed (and exits 1) like a finding.
  const findings = [...ran.flatMap((result) => result.findings), ...steps.flatMap(stepFinding)];
  const { diagnoses, unexplained } = correlate(findings);
  let captures: DoctorCapture[] = [];
  if (captureFailures) {
    const started = Date.now();
    captures = await ctx.progress.step('capturing the failing paths', () => captureFailures(ctx, diagnoses));
    steps.push({ name: 'capture', status: 'ok', durationMs: Date.now() - started });
  }
  const result: DoctorResult = {
    command: 'doctor',
    data: {
      diagnoses,
      unexplained: unexplained.map(({ id, subject }) => ({ id, subject })),
      baseline: options.baseline
        ? {
            file: options.baseline.file,
            takenAt: options.baseline.saved.takenAt,
            changes: compareBaseline(options.baseline.saved, findings),
          }
        : null,
      steps: [preflightStep, ...steps, ...skipped],
      captures,
      // Each engine's data is its command's own type; the engine list pairs names with engines (engines.ts).
      node: (results.node?.data as NodeData | undefined) ?? null,
      dns: (results.dns?.data as DnsData | undefined) ?? null,
      check: (results.check?.data as CheckData | undefined) ?? null,
      bw: (results.bw?.data as BwData | undefined) ?? null,
    },
    findings,
    unavailable: mergeUnavailable(ran),
  };
  return { result, files };
}
