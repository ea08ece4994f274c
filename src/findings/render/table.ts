/**
 * `-o table` and `-o wide`: kubectl-like columns, failures first, then the hints (one line per distinct fix, not
 * one per node), the nodes that could not be used, and a count. Colour only when the caller says the terminal
 * takes it (a TTY without NO_COLOR).
 */
import { formatTable, paint, type Colour, type TableColumn } from '../../lib/output.js';
import { countByStatus, sortFindings, type DiagnosticResult, type Finding, type Status } from '../model.js';

const STATUS_COLOUR: Readonly<Record<Status, Colour>> = { fail: 'red', warn: 'yellow', pass: 'green', skip: 'dim' };

/** `key=value` pairs in key order, for the METRICS column. */
export function formatMetrics(metrics: Finding['metrics']): string {
  return Object.entries(metrics ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
}

/** One line per distinct hint of failed and warned findings, naming the check and how many subjects it covers. */
export function hintLines(findings: readonly Finding[]): string[] {
  const byHint = new Map<string, { ids: Set<string>; subjects: Set<string> }>();
  for (const finding of sortFindings(findings)) {
    if (!finding.hint || (finding.status !== 'fail' && finding.status !== 'warn')) continue;
    const entry = byHint.get(finding.hint) ?? { ids: new Set(), subjects: new Set() };
    entry.ids.add(finding.id);
    entry.subjects.add(finding.subject);
    byHint.set(finding.hint, entry);
  }
  return [...byHint].map(([hint, { ids, subjects }]) => {
    const where = subjects.size === 1 ? [...subjects][0] : `${subjects.size} subjects`;
    return `fix (${[...ids].join(', ')} on ${where}): ${hint}`;
  });
}

/** `4 findings: 1 fail, 1 warn, 1 pass, 1 skip`, plus the unavailable nodes when there are any. */
export function summaryLine(result: DiagnosticResult<unknown>): string {
  const counts = countByStatus(result.findings);
  const total = result.findings.length;
  const parts = `${counts.fail} fail, ${counts.warn} warn, ${counts.pass} pass, ${counts.skip} skip`;
  const unavailable = new Set(result.unavailable.map((entry) => entry.node)).size;
  return `${total} finding${total === 1 ? '' : 's'}: ${parts}${unavailable > 0 ? `; ${unavailable} node${unavailable === 1 ? '' : 's'} unavailable` : ''}`;
}

export function renderTable(
  result: DiagnosticResult<unknown>,
  options: { readonly wide: boolean; readonly colour: boolean },
  above = '',
): string {
  const columns: TableColumn<Finding>[] = [
    { header: 'status', value: (f) => paint(f.status, STATUS_COLOUR[f.status], options.colour) },
    { header: 'check', value: (f) => f.id },
    { header: 'subject', value: (f) => f.subject },
    { header: 'summary', value: (f) => f.summary },
    { header: 'metrics', value: (f) => formatMetrics(f.metrics), wide: true },
    { header: 'evidence', value: (f) => f.evidence.map((e) => e.where).join(', '), wide: true },
    { header: 'hint', value: (f) => f.hint ?? '', wide: true },
  ];
  const sections: string[] = [];
  if (above) sections.push(above.endsWith('\n') ? above : `${above}\n`);
  sections.push(
    result.findings.length > 0 ? formatTable(columns, sortFindings(result.findings), options.wide) : 'no findings\n',
  );
  // With -o wide every hint is in its row already.
  const hints = options.wide ? [] : hintLines(result.findings);
  if (hints.length > 0) sections.push(hints.map((line) => `${line}\n`).join(''));
  if (result.unavailable.length > 0) {
    sections.push(
      formatTable(
        [
          { header: 'unavailable node', value: (u) => u.node },
          { header: 'profile', value: (u) => u.profile },
          { header: 'reason', value: (u) => u.reason },
        ],
        result.unavailable,
        false,
      ),
    );
  }
  sections.push(`${summaryLine(result)}\n`);
  return sections.join('\n');
}
