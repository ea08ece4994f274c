/**
 * Remote processes started with exec survive a client that disconnects (kubernetes#89031), so every long-running
 * remote command is wrapped in coreutils/busybox `timeout`: a killed client leaves nothing running for longer than
 * the bound.
 */
import { usageError } from '../lib/errors.js';

export interface Bound {
  /** Seconds after which the process gets `signal`. */
  readonly seconds: number;
  /** Signal sent at the deadline (TERM lets tcpdump flush its buffer). */
  readonly signal?: 'TERM' | 'INT' | 'KILL';
  /** Seconds after the first signal before KILL, for processes that ignore it. */
  readonly killAfterSeconds?: number;
}

/**
 * `['timeout', '-s', 'TERM', '-k', '5', '<secs>', ...argv]` — the short options busybox and coreutils both accept.
 * The wrapped command exits 124 when the bound fired (125–127 are timeout's own errors).
 */
export function boundedArgv(argv: readonly string[], bound: Bound): string[] {
  if (argv.length === 0) throw usageError('nothing to run', 'pass a command');
  if (!Number.isFinite(bound.seconds) || bound.seconds <= 0) {
    throw usageError(`invalid time bound ${bound.seconds}s for \`${argv[0]}\``, 'use a positive duration');
  }
  const seconds = String(Math.ceil(bound.seconds));
  const kill = bound.killAfterSeconds ?? 5;
  return ['timeout', '-s', bound.signal ?? 'TERM', '-k', String(kill), seconds, ...argv];
}
