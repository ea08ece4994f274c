/**
 * The result model every diagnosis command shares (bw, dns, check, node, doctor): typed data plus findings. A finding
 * is one thing that was checked, with what was seen (evidence) and, when it is not a pass, what to do (hint). The
 * renderers (src/findings/render) and doctor's correlation rules read only this shape.
 */

/** pass: checked and fine; warn: works but worth a look; fail: broken; skip: not checked, and why is the summary. */
export const STATUSES = ['fail', 'warn', 'pass', 'skip'] as const;
export type Status = (typeof STATUSES)[number];

/** Something seen while checking: where (a node, a pod, the API), the command run (argv joined) and what it printed. */
export interface Evidence {
  readonly where: string;
  readonly command?: string;
  /** What the command printed, trimmed to a few lines by {@link trimOutput}. */
  readonly output?: string;
}

export type MetricValue = number | string | boolean;

export interface Finding {
  /** Stable, dotted, no node names in it: `dns.nodelocal.reachable`, `bw.pair.outlier`, `check.l4.clusterip`. */
  readonly id: string;
  /** What it is about: `node/worker2.kube.local`, `worker1.kube.local→worker2.kube.local`, `cluster`. */
  readonly subject: string;
  readonly status: Status;
  /** One line a person reads first. */
  readonly summary: string;
  readonly evidence: readonly Evidence[];
  /** What to do, written like an error's fix line; expected on fail and warn. */
  readonly hint?: string;
  /** Numbers and facts machines compare (latency, bits/s, counters). */
  readonly metrics?: Readonly<Record<string, MetricValue>>;
}

/** A node whose helper pod could not run: a result, not a crash of the whole run. */
export interface Unavailable {
  readonly node: string;
  /** The fleet profile that could not run there. */
  readonly profile: string;
  readonly reason: string;
}

/** What a diagnosis engine returns: its own typed data (the JSON contract), its findings, the nodes it could not use. */
export interface DiagnosticResult<Data> {
  readonly command: string;
  readonly data: Data;
  readonly findings: readonly Finding[];
  readonly unavailable: readonly Unavailable[];
}

const STATUS_ORDER: Readonly<Record<Status, number>> = { fail: 0, warn: 1, pass: 2, skip: 3 };

/** Failures first, then warnings, passes, skips; stable by id then subject within a status. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
      a.id.localeCompare(b.id) ||
      a.subject.localeCompare(b.subject, undefined, { numeric: true }),
  );
}

export function countByStatus(findings: readonly Finding[]): Record<Status, number> {
  const counts: Record<Status, number> = { fail: 0, warn: 0, pass: 0, skip: 0 };
  for (const finding of findings) counts[finding.status] += 1;
  return counts;
}

/** Exit code 1 ("a diagnosis ran and found a problem") when any finding fails; warnings do not fail a run. */
export const diagnosisExitCode = (findings: readonly Finding[]): 0 | 1 =>
  findings.some((finding) => finding.status === 'fail') ? 1 : 0;

/** Keeps evidence readable: at most `maxLines` lines of at most `maxWidth` characters, saying how much was cut. */
export function trimOutput(text: string, maxLines = 20, maxWidth = 240): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  const kept = lines.slice(0, maxLines).map((line) => (line.length > maxWidth ? `${line.slice(0, maxWidth)}…` : line));
  if (lines.length > maxLines) kept.push(`… (${lines.length - maxLines} more lines)`);
  return kept.join('\n');
}
