/**
 * What `doctor` reports (its `-o json` data; docs/schema/doctor.schema.json) and its human view: the diagnoses first,
 * then what changed since the baseline, then the steps; the findings of every command follow (the core's table).
 */
import { formatTable, paint } from '../lib/output.js';
import { type BwData } from '../bw/model.js';
import { type CheckData } from '../check/engine.js';
import { type DnsData } from '../dns/engine.js';
import { type DiagnosticResult } from '../findings/model.js';
import { type NodeData } from '../node/engine.js';
import { type Change } from './baseline.js';
import { type Diagnosis, type FindingRef } from './rules.js';

/** One engine doctor ran (or did not), and how long it took. */
export interface DoctorStep {
  readonly name: 'preflight' | 'node' | 'dns' | 'check' | 'bw' | 'capture';
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly durationMs: number;
  /** Why it was skipped or failed. */
  readonly reason?: string;
}

/** A capture taken at both ends of a failing path (`--capture-failures`), attached to its diagnosis. */
export interface DoctorCapture {
  /** The diagnosis it belongs to, by id and subject. */
  readonly diagnosis: FindingRef;
  /** The pcapng file (both ends merged, interfaces named by node). */
  readonly file: string;
  readonly from: string;
  readonly to: string;
  /** Probe packets seen leaving `from` and arriving at `to`. */
  readonly sent: number;
  readonly arrived: number;
}

export interface DoctorData {
  readonly diagnoses: readonly Diagnosis[];
  /** Failing and warning findings no diagnosis explains. */
  readonly unexplained: readonly FindingRef[];
  /** With --baseline: the baseline compared and what changed since. */
  readonly baseline: { readonly file: string; readonly takenAt: string; readonly changes: readonly Change[] } | null;
  readonly steps: readonly DoctorStep[];
  readonly captures: readonly DoctorCapture[];
  /** Each engine's own data (its -o json `data`), null when it did not run. */
  readonly node: NodeData | null;
  readonly dns: DnsData | null;
  readonly check: CheckData | null;
  readonly bw: BwData | null;
}

export type DoctorResult = DiagnosticResult<DoctorData>;

const SEVERITY_COLOUR = { error: 'red', warning: 'yellow' } as const;

/** The part of `-o table` above the findings: diagnoses with their next command, changes, steps. */
export function doctorText(
  result: DoctorResult,
  options: { readonly wide: boolean; readonly colour: boolean },
): string {
  const { diagnoses, baseline, steps, captures } = result.data;
  const sections: string[] = [];
  if (diagnoses.length === 0) sections.push('DIAGNOSES: none — no rule found a cause\n');
  else {
    sections.push(
      formatTable(
        [
          { header: 'severity', value: (d) => paint(d.severity, SEVERITY_COLOUR[d.severity], options.colour) },
          { header: 'diagnosis', value: (d) => d.id },
          { header: 'subject', value: (d) => d.subject },
          { header: 'cause', value: (d) => d.cause },
          {
            header: 'supporting',
            value: (d) => d.supporting.map((ref) => `${ref.id} ${ref.subject}`).join('; '),
            wide: true,
          },
        ],
        diagnoses,
        options.wide,
      ),
    );
    // One line per command: two diagnoses of one node often point at the same next step.
    const byCommand = new Map<string, Diagnosis[]>();
    for (const d of diagnoses) byCommand.set(d.next, [...(byCommand.get(d.next) ?? []), d]);
    const next = [...byCommand].map(([command, group]) => {
      const ids = [...new Set(group.map((d) => d.id))].join(', ');
      const subjects = [...new Set(group.map((d) => d.subject))].join(', ');
      return `next (${ids} ${subjects}): ${command}`;
    });
    const attached = captures.map(
      (c) =>
        `capture (${c.diagnosis.id} ${c.diagnosis.subject}): ${c.file} — ${c.sent} probe packets left ${c.from}, ${c.arrived} arrived at ${c.to}`,
    );
    sections.push([...next, ...attached].join('\n') + '\n');
  }
  if (baseline) {
    const changes = baseline.changes;
    sections.push(
      changes.length === 0
        ? `CHANGES since ${baseline.takenAt} (${baseline.file}): none\n`
        : `CHANGES since ${baseline.takenAt} (${baseline.file}):\n` +
            formatTable(
              [
                { header: 'change', value: (c: Change) => c.kind },
                { header: 'check', value: (c: Change) => c.id },
                { header: 'subject', value: (c: Change) => c.subject },
                { header: 'what', value: (c: Change) => c.summary },
              ],
              changes,
              options.wide,
            ),
    );
  }
  const notRun = steps.filter((step) => step.status !== 'ok');
  if (notRun.length > 0)
    sections.push(
      notRun.map((step) => `${step.name}: ${step.status}${step.reason ? ` (${step.reason})` : ''}`).join('\n') + '\n',
    );
  return sections.join('\n');
}
