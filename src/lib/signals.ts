import { INTERRUPTED_EXIT_STATUS, InterruptedError } from './errors.js';

export { InterruptedError } from './errors.js';

/** The process-like surface this module needs; tests pass a fake EventEmitter instead of `process`. */
export interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

export interface RunAbort {
  /** Aborted on the first SIGINT or SIGTERM; its `reason` is an {@link InterruptedError}. Pass it down as a value. */
  readonly signal: AbortSignal;
  /** Which signal aborted the run, if any. */
  readonly received: () => 'SIGINT' | 'SIGTERM' | undefined;
  /** Removes the handlers; call when the command has finished (cleanup included). */
  readonly dispose: () => void;
}

/**
 * Wires SIGINT and SIGTERM to an AbortController. The first signal aborts (so the command stops waiting and runs
 * its cleanup); a second one means "stop now" and exits at once with 130 — cleanup may then be incomplete, which
 * `kubectl netdiag cleanup` repairs.
 */
export function createRunAbort(
  source: SignalSource = process,
  exitNow: (code: number) => void = (code) => process.exit(code),
  onSecondSignal: () => void = () =>
    process.stderr.write('\ninterrupted again: exiting without cleanup (run `kubectl netdiag cleanup`)\n'),
): RunAbort {
  const controller = new AbortController();
  let received: 'SIGINT' | 'SIGTERM' | undefined;
  const handle = (name: 'SIGINT' | 'SIGTERM') => () => {
    if (received !== undefined) {
      onSecondSignal();
      exitNow(INTERRUPTED_EXIT_STATUS);
      return;
    }
    received = name;
    controller.abort(new InterruptedError(name));
  };
  const onInt = handle('SIGINT');
  const onTerm = handle('SIGTERM');
  source.on('SIGINT', onInt);
  source.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      source.off('SIGINT', onInt);
      source.off('SIGTERM', onTerm);
    },
  };
}

/** Sleeps `ms` unless the signal aborts first (then rejects with its reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
