/**
 * The base class of every command: global flags (cluster access like kubectl, verbosity), typed KubeAccessOptions,
 * SIGINT/SIGTERM → AbortSignal, run sessions cleaned up on every exit path, progress on stderr, report output on
 * stdout, and errors rendered as `error:` / `fix:` lines with the documented exit codes (by the entry point, scripts/release/bundle-entry.ts).
 *
 * A command: `static flags = { ...NetdiagCommand.outputFlags, ... }`, then in `run()` parse (`await this.parseFlags(X)`),
 * build typed options, call an engine with `this.client()`, `this.abort.signal`, `this.progress`, render with
 * `this.printReport(...)`.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import type { KubeAccessOptions, KubeClient } from '../kube/client.js';
import { RunSession } from '../kube/session.js';
import { parseDuration } from './duration.js';
import { formatReport, OUTPUT_FORMATS, type OutputFormat, type Report } from './output.js';
import { createProgress, progressMode, type Progress } from './progress.js';
import { createRunAbort, type RunAbort } from './signals.js';

const GLOBAL = 'GLOBAL';

/** Flags every command has; names, short forms and meaning follow kubectl. */
export const globalFlags = {
  kubeconfig: Flags.string({
    description: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).',
    helpGroup: GLOBAL,
  }),
  context: Flags.string({ description: 'The kubeconfig context to use.', helpGroup: GLOBAL }),
  cluster: Flags.string({ description: 'The kubeconfig cluster to use (overrides the context’s).', helpGroup: GLOBAL }),
  user: Flags.string({ description: 'The kubeconfig user to use (overrides the context’s).', helpGroup: GLOBAL }),
  namespace: Flags.string({
    char: 'n',
    description: 'Namespace (default: the context’s, then "default").',
    helpGroup: GLOBAL,
  }),
  'request-timeout': Flags.string({
    description: 'Timeout of each API request: 30s, 1m, a bare number of seconds; 0 = none.',
    default: '30s',
    helpGroup: GLOBAL,
  }),
  verbose: Flags.boolean({
    char: 'v',
    description: 'Debug logs on stderr; stack traces for unexpected errors.',
    helpGroup: GLOBAL,
  }),
  quiet: Flags.boolean({
    char: 'q',
    description: 'No progress output on stderr (warnings and errors still print).',
    helpGroup: GLOBAL,
  }),
};

/** `-o` for commands that print a report. */
export const outputFlags = {
  output: Flags.string({ char: 'o', description: 'Output format.', options: [...OUTPUT_FORMATS], default: 'table' }),
};

export type GlobalFlagValues = Interfaces.InferredFlags<typeof globalFlags>;

/** Global flag values → typed access options. Pure; throws a usage error (exit 2) on a bad --request-timeout. */
export function kubeAccessFromFlags(
  flags: Pick<GlobalFlagValues, 'kubeconfig' | 'context' | 'cluster' | 'user' | 'namespace' | 'request-timeout'>,
): KubeAccessOptions {
  return {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    cluster: flags.cluster,
    user: flags.user,
    namespace: flags.namespace,
    requestTimeoutMs: parseDuration(flags['request-timeout'], 'request-timeout'),
  };
}

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
  }

  /**
   * Parses argv with the command's flags and args and sets up globals and progress. Every command calls it first.
   * Parse errors are oclif's (exit 2).
   */
  protected async parseFlags<C extends typeof NetdiagCommand>(ctor: C) {
    const parsed = await this.parse(ctor);
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
   * client-node is imported here, not at the top: loading it is most of the CLI's start-up time, and commands
   * that never talk to the cluster should not pay for it.
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

  /** A run session whose objects are deleted when the command ends, however it ends. */
  protected async newSession(): Promise<RunSession> {
    const session = new RunSession(await this.client());
    this.sessions.push(session);
    this.progress.debug(`session ${session.id}`);
    return session;
  }

  protected printReport<Row>(format: OutputFormat, report: Report<Row>): void {
    process.stdout.write(formatReport(format, report));
  }

  // Errors are kept for finally(): cleanup must run before anything is printed or the process exits.
  override async catch(err: Error & { exitCode?: number }): Promise<void> {
    this.failure = err;
  }

  override async finally(err: Error | undefined): Promise<void> {
    try {
      for (const session of this.sessions) {
        const tracked = session.trackedPods.length;
        if (tracked > 0) this.progress.info(`cleaning up ${tracked} pod(s) of session ${session.id}`);
        const outcome = await session.cleanup();
        for (const failed of outcome.failed) {
          this.progress.warn(
            `could not delete pod ${failed.resource.namespace}/${failed.resource.name}: ${failed.error}; run \`kubectl netdiag cleanup\``,
          );
        }
      }
    } finally {
      this.abort?.dispose();
    }
    await super.finally(err);
    // Rethrown to the entry point (scripts/release/bundle-entry.ts), which renders every error the same way.
    if (this.failure !== undefined) throw this.failure;
  }
}
