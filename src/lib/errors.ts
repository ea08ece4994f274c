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

  constructor(exitCode: ExitCode, cause: string, fix?: string, options?: { cause?: unknown }) {
    super(cause, options);
    this.name = 'NetdiagError';
    this.exitCode = exitCode;
    this.fix = fix;
  }
}

export const usageError = (cause: string, fix?: string): NetdiagError => new NetdiagError(ExitCode.Usage, cause, fix);

export const environmentError = (cause: string, fix?: string, options?: { cause?: unknown }): NetdiagError =>
  new NetdiagError(ExitCode.Environment, cause, fix, options);
