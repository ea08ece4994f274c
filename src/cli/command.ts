/**
 * The base class of every command: global flags (cluster access like kubectl, verbosity), typed KubeAccessOptions,
 * SIGINT/SIGTERM → AbortSignal, run sessions cleaned up on every exit path, progress on stderr, report output on
 * stdout, and errors rendered as `error:` / `fix:` lines with the documented exit codes (by the entry point, scripts/release/bundle-entry.ts).
 *
 * A diagnosis command: `static flags = { ...diagnosticFlags, ...its own }`, then in `run()`:
 * `const { flags } = await this.parseFlags(X)`, `const options = toOptions(flags)` (pure, unit-tested), and
 * `await this.diagnose(flags, (ctx) => runX(ctx, options), view)`, which resolves the nodes, owns the run session,
 * renders the result and sets exit code 1 when a finding fails. The flag groups live in ./flags.ts.
 */
import { Command } from '@oclif/core/command';
import type * as Interfaces from '@oclif/core/interfaces';
import type { DiagnosticContext } from '../kube/context.js';
import type { KubeAccessOptions, KubeClient } from '../kube/client.js';
import type { RunSession } from '../kube/session.js';
import { diagnosisExitCode, type DiagnosticResult } from '../findings/model.js';
import { parseFormat, REPORT_FORMATS } from '../findings/render/formats.js';
import type { ResultView } from '../findings/render/index.js';
import { colorEnabled } from '../lib/output.js';
import { createProgress, progressMode, type Progress } from '../lib/progress.js';
import { createRunAbort, type RunAbort } from '../lib/signals.js';
import { parsePositiveDuration } from '../lib/units.js';
import {
  globalFlags,
  kubeAccessFromFlags,
  nodeSelectionFromFlags,
  type DiagnosticFlagValues,
  type GlobalFlagValues,
} from './flags.js';

export abstract class NetdiagCommand extends Command {
  static override baseFlags = globalFlags;

  /** Aborted on SIGINT/SIGTERM; pass `this.abort.signal` down to engines. */
  protected abort!: RunAbort;
  protected progress!: Progress;
  protected globals!: GlobalFlagValues;
  private clientInstance: KubeClient | undefined;
  private readonly sessions: RunSession[] = [];
  /** The error the command ended with, rethrown after cleanup. */
  private failure: unknown;

  override async init(): Promise<void> {
    await super.init();
    this.abort = createRunAbort();
    // A reader of stderr that went away (`2>&1 | less` quit, the terminal closed) makes every later message fail
    // with EPIPE; unhandled, that error would end the process before the run deletes what it created.
    process.stderr.on('error', ignoreStreamError);
  }

  /**
   * Parses argv with the command's flags and args and sets up globals and progress. Every command calls it first.
   * Parse errors are oclif's (exit 2).
   */
  protected async parseFlags<C extends typeof NetdiagCommand>(ctor: C) {
    // Typed from the command's own flags (oclif would infer them from this base class and type every flag `any`).
    const parsed = await this.parse<
      Interfaces.InferredFlags<C['flags']> & GlobalFlagValues,
      GlobalFlagValues,
      Interfaces.InferredArgs<C['args']>
    >(
      ctor as unknown as Interfaces.Input<
        Interfaces.InferredFlags<C['flags']> & GlobalFlagValues,
        GlobalFlagValues,
        Interfaces.InferredArgs<C['args']>
      >,
    );
    this.globals = parsed.flags as unknown as GlobalFlagValues;
    this.progress = createProgress({
      mode: progressMode({ quiet: this.globals.quiet, stderrIsTTY: process.stderr.isTTY === true }),
      verbose: this.globals.verbose,
    });
    return parsed;
  }

  protected kubeAccess(): KubeAccessOptions {
    return kubeAccessFromFlags(this.globals);
  }

  /**
   * The cluster client, created on first use (so `version --client` and `--help` never read a kubeconfig).
   * client-node is imported here, not at the top, and so are the session, the nodes and the context (with the
   * exec stream's websocket): loading them is most of the CLI's start-up time, and commands that never talk to
   * the cluster should not pay for it.
   */
  protected async client(): Promise<KubeClient> {
    if (!this.clientInstance) {
      const { KubeClient } = await import('../kube/client.js');
      this.clientInstance = KubeClient.fromAccess(this.kubeAccess());
      this.progress.debug(
        `context ${this.clientInstance.contextName}, server ${this.clientInstance.server}, namespace ${this.clientInstance.namespace}`,
      );
    }
    return this.clientInstance;
  }

  /** The run's session: its objects are deleted when the command ends, however it ends. Commands own it. */
  protected async newSession(): Promise<RunSession> {
    const { RunSession } = await import('../kube/session.js');
    const session = new RunSession(await this.client());
    this.sessions.push(session);
    this.progress.debug(`session ${session.id}`);
    return session;
  }

  /**
   * The whole life of a diagnosis command after parsing: resolve the nodes (an unknown one exits 2 before anything
   * is created), create the session and the context, run the engine, render its result in `-o`'s format on stdout,
   * and exit 1 when a finding failed. Cleanup happens in {@link finally}, whatever the engine did.
   */
  protected async diagnose<Data>(
    flags: DiagnosticFlagValues,
    engine: (ctx: DiagnosticContext) => Promise<DiagnosticResult<Data>>,
    view?: ResultView<Data>,
  ): Promise<DiagnosticResult<Data>> {
    const format = parseFormat(flags.output, REPORT_FORMATS);
    const podRunningTimeoutMs = parsePositiveDuration(flags['pod-running-timeout'], 'pod-running-timeout');
    const client = await this.client();
    const [{ selectNodes }, { createDiagnosticContext }, config, { renderResult }] = await Promise.all([
      import('../kube/nodes.js'),
      import('../kube/context.js'),
      import('../lib/config.js'),
      import('../findings/render/index.js'),
    ]);
    const signal = this.abort.signal;
    const nodes = await this.progress.step('selecting nodes', () =>
      selectNodes(client, nodeSelectionFromFlags(flags), signal),
    );
    this.progress.debug(`nodes: ${nodes.map((node) => node.name).join(', ')}`);
    const ctx = createDiagnosticContext({
      client,
      session: await this.newSession(),
      progress: this.progress,
      signal,
      namespace: client.namespace,
      image: config.resolveToolsImage(
        flags.image,
        process.env,
        config.loadFileConfig(config.configFilePath(process.env)),
      ),
      nodes,
      podRunningTimeoutMs,
    });
    const result = await engine(ctx);
    process.stdout.write(
      renderResult(format, result, view, { colour: colorEnabled(process.env, process.stdout.isTTY === true) }),
    );
    process.exitCode = diagnosisExitCode(result.findings);
    return result;
  }

  // Errors are kept for finally(): cleanup must run before anything is printed or the process exits.
  override async catch(err: Error & { exitCode?: number }): Promise<void> {
    this.failure = err;
  }

  override async finally(err: Error | undefined): Promise<void> {
    try {
      for (const session of this.sessions) {
        const tracked = session.trackedObjects.length;
        if (tracked > 0) this.progress.info(`cleaning up ${tracked} object(s) of session ${session.id}`);
        const outcome = await session.cleanup();
        for (const failed of outcome.failed) {
          this.progress.warn(
            `could not delete ${failed.resource.kind} ${failed.resource.namespace}/${failed.resource.name}: ${failed.error}; run \`kubectl netdiag cleanup\``,
          );
        }
      }
    } finally {
      this.abort?.dispose();
    }
    // Benchmarks and reviews of API load read this line (`-v`).
    if (this.clientInstance) this.progress.debug(`api requests: ${this.clientInstance.requestCount}`);
    await super.finally(err);
    // Rethrown to the entry point (scripts/release/bundle-entry.ts), which renders every error the same way.
    if (this.failure !== undefined) throw this.failure;
  }
}

/** Messages that can no longer be shown are dropped; the run goes on to its cleanup and exit status. */
const ignoreStreamError = (): void => undefined;
