/**
 * Exit codes are part of the CLI contract (README "Exit codes"); every path that ends the
 * process maps to one of these.
 */
export const ExitCode = {
  /** Everything worked (including a capture the user stopped with Ctrl-C). */
  Ok: 0,
  /** A diagnosis ran and found a problem. */
  Problem: 1,
  /** Bad input: usage, unknown pod/namespace/container/context, invalid value. */
  Usage: 2,
  /** Cluster or environment error: unreachable, forbidden, PodSecurity, image pull, timeout. */
  Environment: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error meant for the operator: one line of cause, one line of fix, and the exit code.
 * Anything that is not a NetdiagError reaching the top level is a bug and exits 3 with its stack under -v.
 */
export class NetdiagError extends Error {
  readonly exitCode: ExitCode;
  readonly fix: string | undefined;
  /** Optional multi-line material printed after the fix line (e.g. the Role YAML that grants a missing permission). */
  readonly detail: string | undefined;

  constructor(exitCode: ExitCode, cause: string, fix?: string, options?: { cause?: unknown; detail?: string }) {
    super(cause, options);
    this.name = 'NetdiagError';
    this.exitCode = exitCode;
    this.fix = fix;
    this.detail = options?.detail;
  }
}

export const usageError = (cause: string, fix?: string): NetdiagError => new NetdiagError(ExitCode.Usage, cause, fix);

export const environmentError = (
  cause: string,
  fix?: string,
  options?: { cause?: unknown; detail?: string },
): NetdiagError => new NetdiagError(ExitCode.Environment, cause, fix, options);

/** Exit status for a process ended by a second Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT_STATUS = 130;

/**
 * The abort reason when the user stopped the run (src/lib/signals.ts). Commands for which Ctrl-C is the normal way
 * to stop (a capture) catch it and exit 0; reaching the top level it means "stopped early" and exits 130.
 */
export class InterruptedError extends Error {
  readonly signalName: 'SIGINT' | 'SIGTERM';
  constructor(signalName: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signalName}`);
    this.name = 'InterruptedError';
    this.signalName = signalName;
  }
}

/** What the top level prints and the status it exits with; a pure function of the error so it is unit-tested. */
export interface RenderedError {
  readonly exitCode: ExitCode | typeof INTERRUPTED_EXIT_STATUS;
  /** Lines for stderr, without trailing newlines: `error: <cause>`, then `fix: <fix>` when there is one. */
  readonly lines: readonly string[];
}

/** The shape oclif puts on its own errors (CLIError and the parser's errors): `err.oclif.exit`. */
interface OclifErrorShape {
  readonly message: string;
  readonly oclif: { readonly exit?: number | false };
}

const isOclifError = (err: unknown): err is OclifErrorShape =>
  err instanceof Error &&
  typeof (err as { oclif?: unknown }).oclif === 'object' &&
  (err as { oclif?: unknown }).oclif !== null;

/** oclif prefixes some messages with ANSI colour and a leading "Error: "; one line is what users get from us. */
const firstLine = (message: string): string =>
  message
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(' ')
    .replace(/^Error:\s*/, '')
    // oclif appends its own hint; our `fix:` line says the same.
    .replace(/\s*See more help with --help\.?$/, '');

/**
 * Maps any error that reached the top level to an exit code and the lines to print.
 * - NetdiagError: its own exit code, cause and fix.
 * - oclif parse/usage errors (unknown flag, missing arg, bad option value, command not found): exit 2.
 * - InterruptedError (first Ctrl-C/SIGTERM, after cleanup): 130.
 * - anything else is a bug: exit 3, and the stack only under `-v`.
 */
export function renderError(err: unknown, options: { verbose: boolean }): RenderedError {
  if (err instanceof InterruptedError) {
    return {
      exitCode: INTERRUPTED_EXIT_STATUS,
      lines: [`interrupted (${err.signalName})`],
    };
  }
  if (err instanceof NetdiagError) {
    const lines = [`error: ${firstLine(err.message)}`];
    if (err.fix) lines.push(`fix: ${err.fix}`);
    if (err.detail) lines.push(err.detail.replace(/\n+$/, ''));
    if (options.verbose && err.cause instanceof Error && err.cause.stack) lines.push(err.cause.stack);
    return { exitCode: err.exitCode, lines };
  }
  if (isOclifError(err)) {
    const exit = err.oclif.exit;
    // oclif uses exit 2 for usage errors; anything else it reports (e.g. exit 1 from this.error()) is still bad input.
    const exitCode = exit === ExitCode.Environment || exit === ExitCode.Problem ? exit : ExitCode.Usage;
    const lines = [
      `error: ${firstLine(err.message)}`,
      'fix: see `kubectl netdiag --help` or `kubectl netdiag <command> --help`',
    ];
    return { exitCode, lines };
  }
  const message = err instanceof Error ? firstLine(err.message) : String(err);
  const lines = [`error: unexpected failure: ${message}`];
  if (options.verbose && err instanceof Error && err.stack) lines.push(err.stack);
  else lines.push('fix: run again with -v for the stack trace and report it as a bug');
  return { exitCode: ExitCode.Environment, lines };
}
