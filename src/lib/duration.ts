import { usageError } from './errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration the way kubectl's `--request-timeout` does: a bare integer is seconds, otherwise Go duration
 * syntax with ms/s/m/h units (`500ms`, `30s`, `1m30s`). Returns milliseconds; 0 means "no timeout".
 * Throws a usage error (exit 2) naming the flag on anything else.
 */
export function parseDuration(value: string, flagName: string): number {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
    consumed = pattern.lastIndex;
  }
  if (text.length === 0 || consumed !== text.length) {
    throw usageError(
      `invalid value "${value}" for --${flagName}`,
      `use a duration like 30s, 1m or 1m30s (a bare number means seconds, 0 means no timeout)`,
    );
  }
  return Math.round(total);
}

/** Renders milliseconds as a short human duration for messages ("90s", "2m", "1.5s"). */
export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}
