/**
 * `doctor --save-baseline FILE` keeps what a good run saw; `--baseline FILE` compares a later run with it: new
 * failures, bandwidth down by more than a factor, latency up by more than a factor, node facts changed, and what
 * recovered. Pure: the command reads and writes the file.
 *
 * Which metrics are which is read from their names, the convention every command's findings follow: bandwidth in
 * keys ending in `bitsPerSecond`, latency in keys ending in `Ms`; node facts are the string and boolean metrics of
 * `node.*` findings (counters, which move by themselves, are numbers and are not compared).
 */
import { type Finding, type MetricValue, type Status } from '../findings/model.js';
import { usageError } from '../lib/errors.js';

export const BASELINE_VERSION = 1;

/** A finding as a baseline keeps it: enough to compare, nothing to render. */
export interface BaselineFinding {
  readonly id: string;
  readonly subject: string;
  readonly status: Status;
  readonly metrics?: Readonly<Record<string, MetricValue>>;
}

export interface Baseline {
  readonly kind: 'netdiag-doctor-baseline';
  readonly version: typeof BASELINE_VERSION;
  /** ISO time the baseline was taken. */
  readonly takenAt: string;
  readonly findings: readonly BaselineFinding[];
}

export type ChangeKind =
  'new-failure' | 'new-warning' | 'bandwidth-down' | 'latency-up' | 'node-fact-changed' | 'recovered';

export interface Change {
  readonly kind: ChangeKind;
  readonly id: string;
  readonly subject: string;
  /** The metric compared (bandwidth, latency, node facts); absent for a status change. */
  readonly metric?: string;
  readonly before: MetricValue | null;
  readonly after: MetricValue | null;
  readonly summary: string;
}

export interface BaselineThresholds {
  /** Bandwidth now below before / factor is a change. */
  readonly bandwidthFactor: number;
  /** Latency now above before × factor (and by at least `latencyMinMs`) is a change. */
  readonly latencyFactor: number;
  readonly latencyMinMs: number;
}

export const DEFAULT_THRESHOLDS: BaselineThresholds = { bandwidthFactor: 2, latencyFactor: 2, latencyMinMs: 5 };

export function toBaseline(findings: readonly Finding[], takenAt: Date): Baseline {
  return {
    kind: 'netdiag-doctor-baseline',
    version: BASELINE_VERSION,
    takenAt: takenAt.toISOString(),
    findings: findings.map(({ id, subject, status, metrics }) => ({
      id,
      subject,
      status,
      ...(metrics ? { metrics } : {}),
    })),
  };
}

/** Reads a baseline file's text; anything else is a usage error naming the file. */
export function parseBaseline(text: string, file: string): Baseline {
  const fix = `make one with kubectl netdiag doctor --save-baseline ${file} on a healthy cluster`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw usageError(`${file} is not a doctor baseline (not JSON: ${(error as Error).message})`, fix);
  }
  const candidate = parsed as Partial<Baseline> | null;
  if (candidate?.kind !== 'netdiag-doctor-baseline' || !Array.isArray(candidate.findings))
    throw usageError(`${file} is not a doctor baseline (no kind: netdiag-doctor-baseline)`, fix);
  if (candidate.version !== BASELINE_VERSION)
    throw usageError(
      `${file} is a version ${String(candidate.version)} baseline; this doctor reads version ${BASELINE_VERSION}`,
      fix,
    );
  return candidate as Baseline;
}

const isBandwidth = (key: string): boolean => /bitsPerSecond$/i.test(key);
const isLatency = (key: string): boolean => /Ms$/.test(key);
/**
 * Findings are matched by id and subject, and by what tells apart several findings of one id on one subject: bw's
 * `metrics.network` (pod, host) and check's `metrics.target`.
 */
const keyOf = (finding: BaselineFinding): string =>
  [finding.id, finding.subject, finding.metrics?.network ?? '', finding.metrics?.target ?? ''].join(' ');
const bad = (status: Status | undefined): boolean => status === 'fail' || status === 'warn';

const formatBits = (bps: number): string =>
  bps >= 1e9 ? `${(bps / 1e9).toFixed(2)} Gbit/s` : `${(bps / 1e6).toFixed(bps >= 1e8 ? 0 : 1)} Mbit/s`;

/** What changed from `baseline` to `findings`, new failures first. */
export function compareBaseline(
  baseline: Baseline,
  findings: readonly Finding[],
  thresholds: BaselineThresholds = DEFAULT_THRESHOLDS,
): Change[] {
  const before = new Map(baseline.findings.map((finding) => [keyOf(finding), finding]));
  const changes: Change[] = [];
  for (const now of findings) {
    const then = before.get(keyOf(now));
    const at = { id: now.id, subject: now.subject };
    if (now.status === 'fail' && then?.status !== 'fail')
      changes.push({
        kind: 'new-failure',
        ...at,
        before: then?.status ?? null,
        after: now.status,
        summary: now.summary,
      });
    else if (now.status === 'warn' && !bad(then?.status))
      changes.push({
        kind: 'new-warning',
        ...at,
        before: then?.status ?? null,
        after: now.status,
        summary: now.summary,
      });
    else if (now.status === 'pass' && then?.status === 'fail')
      changes.push({ kind: 'recovered', ...at, before: then.status, after: now.status, summary: now.summary });
    if (!then?.metrics || !now.metrics) continue;
    for (const [metric, value] of Object.entries(now.metrics)) {
      const old = then.metrics[metric];
      if (old === undefined) continue;
      if (typeof value === 'number' && typeof old === 'number') {
        if (isBandwidth(metric) && old > 0 && value < old / thresholds.bandwidthFactor)
          changes.push({
            kind: 'bandwidth-down',
            ...at,
            metric,
            before: old,
            after: value,
            summary: `${metric} ${formatBits(old)} → ${formatBits(value)} (÷${(old / Math.max(value, 1)).toFixed(1)})`,
          });
        else if (isLatency(metric) && value > old * thresholds.latencyFactor && value - old >= thresholds.latencyMinMs)
          changes.push({
            kind: 'latency-up',
            ...at,
            metric,
            before: old,
            after: value,
            summary: `${metric} ${old} ms → ${value} ms`,
          });
      } else if (now.id.startsWith('node.') && typeof value !== 'number' && value !== old)
        changes.push({
          kind: 'node-fact-changed',
          ...at,
          metric,
          before: old,
          after: value,
          summary: `${metric}: ${String(old)} → ${String(value)}`,
        });
    }
  }
  const order: readonly ChangeKind[] = [
    'new-failure',
    'new-warning',
    'bandwidth-down',
    'latency-up',
    'node-fact-changed',
    'recovered',
  ];
  return changes.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}
