import { parseDuration } from './duration.js';
import { usageError } from './errors.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

const sizeHint = 'use bytes with an optional unit, e.g. 500k, 100MB, 1GiB (k/M/G are powers of 1000, Ki/Mi/Gi of 1024)';

/** Parses a byte size: `1048576`, `500k`, `100MB`, `1.5GiB`. Returns bytes. */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const multiplier = match ? SIZE_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || multiplier === undefined) {
    throw usageError(`invalid ${flag} "${text}"`, sizeHint);
  }
  return positive(Math.floor(Number(match[1]) * multiplier), text, flag, sizeHint);
}

/** Parses a positive integer flag such as `--count` or `--snaplen`. */
export function parsePositiveInt(value: number, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw usageError(`invalid ${flag} ${value}`, `use a whole number between 1 and ${max}`);
  }
  return value;
}

/** A strictly positive duration (`--duration`, `--pod-running-timeout`): the shared parser allows 0 for "none". */
export function parsePositiveDuration(text: string, flag: string): number {
  return positive(parseDuration(text, flag), text, `--${flag}`, 'use a duration like 10s, 1m30s or 2h');
}

function positive(value: number, text: string, flag: string, hint: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw usageError(`invalid ${flag} "${text}": must be greater than zero`, hint);
  }
  return value;
}

/** Renders bytes for messages: 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(bytes)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A rate as iperf3 and tc users read it: `95.4 Mbit/s`, `12.16 Gbit/s`. */
export const formatBits = (bitsPerSecond: number): string =>
  bitsPerSecond >= 1e9 ? `${(bitsPerSecond / 1e9).toFixed(2)} Gbit/s` : `${(bitsPerSecond / 1e6).toFixed(1)} Mbit/s`;
