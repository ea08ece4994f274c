/**
 * doctor's own flags → typed options (pure; the command reads and writes the files they name). The shared flags
 * (output, node selection, image) are the core's.
 */
import { usageError } from '../lib/errors.js';
import { parseDuration } from '../lib/duration.js';
import { type Baseline } from './baseline.js';

export interface DoctorFlagValues {
  readonly quick: boolean;
  readonly 'capture-failures'?: boolean;
  readonly baseline?: string;
  readonly 'save-baseline'?: string;
  readonly bundle?: string;
  readonly 'bw-duration': string;
}

/** What the command decides from the flags, before anything is read or created. */
export interface DoctorPlan {
  readonly quick: boolean;
  readonly captureFailures: boolean;
  readonly baselineFile: string | undefined;
  readonly saveBaselineFile: string | undefined;
  readonly bundleFile: string | undefined;
  readonly bwDurationMs: number;
}

/** What the engine gets. */
export interface DoctorOptions {
  readonly quick: boolean;
  readonly bwDurationMs: number;
  /** A `--bundle` is wanted: the engines collect their raw material for it (node: everything it can read). */
  readonly bundle: boolean;
  /** A baseline to compare with, already read and parsed, and the file it came from. */
  readonly baseline: { readonly file: string; readonly saved: Baseline } | undefined;
}

/** Long enough for iperf3 to pass slow start on a LAN, short enough that a 3-node doctor stays near a minute. */
export const DEFAULT_BW_DURATION = '3s';
const MAX_BW_DURATION_MS = 60_000;

export function toPlan(flags: DoctorFlagValues): DoctorPlan {
  const bwDurationMs = parseDuration(flags['bw-duration'], 'bw-duration');
  if (bwDurationMs < 1000 || bwDurationMs > MAX_BW_DURATION_MS || bwDurationMs % 1000 !== 0)
    throw usageError(
      `--bw-duration ${flags['bw-duration']} is out of range`,
      'give whole seconds, 1s to 60s (default 3s)',
    );
  if (flags.quick && flags['bw-duration'] !== DEFAULT_BW_DURATION)
    throw usageError('--bw-duration with --quick: --quick skips the bandwidth measurement', 'drop one of them');
  if (flags.bundle !== undefined && !/\.(tar\.gz|tgz)$/.test(flags.bundle))
    throw usageError(`--bundle ${flags.bundle} is not a .tar.gz file name`, 'name it like report.tar.gz');
  return {
    quick: flags.quick,
    captureFailures: flags['capture-failures'] ?? false,
    baselineFile: flags.baseline,
    saveBaselineFile: flags['save-baseline'],
    bundleFile: flags.bundle,
    bwDurationMs,
  };
}
