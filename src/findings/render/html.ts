/**
 * `-o html`: ONE self-contained file an operator attaches to a ticket. Inline CSS and SVG only; a
 * Content-Security-Policy that forbids every fetch and script, so the file behaves the same offline and cannot
 * call anywhere. A command adds sections (a bandwidth heatmap, a matrix) through its view, as trusted markup built
 * with {@link escapeHtml}.
 */
import { countByStatus, sortFindings, STATUSES, type DiagnosticResult, type Finding, type Status } from '../model.js';
import { formatMetrics, summaryLine } from './table.js';

/** A block of the report a command contributes; `html` is markup the command built, escaping what it inserts. */
export interface HtmlSection {
  readonly title: string;
  readonly html: string;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Colours shared by the status pills, the summary bar and what commands draw (e.g. a heatmap's scale). */
export const STATUS_FILL: Readonly<Record<Status, string>> = {
  fail: '#c62828',
  warn: '#ef8f00',
  pass: '#2e7d32',
  skip: '#9e9e9e',
};

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1d1d1f; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
.summary { color: #444; margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; font-weight: 600; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f6f6f6; padding: 8px; margin: 6px 0; white-space: pre-wrap; word-break: break-all; }
.pill { display: inline-block; min-width: 3.2em; text-align: center; color: #fff; border-radius: 10px; padding: 1px 8px; font-weight: 600; }
.hint { color: #5a3d00; }
details summary { cursor: pointer; color: #555; }
`;

function summaryBar(findings: readonly Finding[]): string {
  const counts = countByStatus(findings);
  const total = findings.length;
  if (total === 0) return '';
  let x = 0;
  const rects = STATUSES.filter((status) => counts[status] > 0).map((status) => {
    const width = (counts[status] / total) * 600;
    const rect = `<rect x="${x.toFixed(1)}" y="0" width="${width.toFixed(1)}" height="18" fill="${STATUS_FILL[status]}"><title>${counts[status]} ${status}</title></rect>`;
    x += width;
    return rect;
  });
  return `<svg role="img" aria-label="${escapeHtml(summaryLine({ command: '', data: null, findings, unavailable: [] }))}" width="600" height="18" viewBox="0 0 600 18" xmlns="http://www.w3.org/2000/svg">${rects.join('')}</svg>`;
}

function evidenceBlock(finding: Finding): string {
  const metrics = formatMetrics(finding.metrics);
  const items = finding.evidence.map((evidence) => {
    const text = [evidence.command ? `$ ${evidence.command}` : '', evidence.output ?? ''].filter(Boolean).join('\n');
    return `<div>on ${escapeHtml(evidence.where)}${text ? `<pre>${escapeHtml(text)}</pre>` : ''}</div>`;
  });
  if (metrics) items.unshift(`<div>metrics: <code>${escapeHtml(metrics)}</code></div>`);
  if (items.length === 0) return '';
  // Failures and warnings open their evidence; passes keep it folded.
  const open = finding.status === 'fail' || finding.status === 'warn' ? ' open' : '';
  return `<details${open}><summary>evidence</summary>${items.join('')}</details>`;
}

function findingRow(finding: Finding): string {
  return [
    '<tr>',
    `<td><span class="pill" style="background:${STATUS_FILL[finding.status]}">${finding.status}</span></td>`,
    `<td><code>${escapeHtml(finding.id)}</code></td>`,
    `<td>${escapeHtml(finding.subject)}</td>`,
    `<td>${escapeHtml(finding.summary)}${finding.hint ? `<div class="hint">fix: ${escapeHtml(finding.hint)}</div>` : ''}${evidenceBlock(finding)}</td>`,
    '</tr>',
  ].join('');
}

export function renderHtml(result: DiagnosticResult<unknown>, sections: readonly HtmlSection[] = []): string {
  const title = `kubectl netdiag ${result.command}`;
  const findings = sortFindings(result.findings);
  const body: string[] = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="summary">${escapeHtml(summaryLine(result))}</p>`,
    summaryBar(findings),
    ...sections.map((section) => `<h2>${escapeHtml(section.title)}</h2>\n${section.html}`),
    '<h2>Findings</h2>',
    findings.length > 0
      ? `<table><thead><tr><th>Status</th><th>Check</th><th>Subject</th><th>Summary</th></tr></thead><tbody>\n${findings.map(findingRow).join('\n')}\n</tbody></table>`
      : '<p>No findings.</p>',
  ];
  if (result.unavailable.length > 0) {
    body.push(
      '<h2>Unavailable nodes</h2>',
      `<table><thead><tr><th>Node</th><th>Profile</th><th>Reason</th></tr></thead><tbody>${result.unavailable
        .map(
          (u) =>
            `<tr><td>${escapeHtml(u.node)}</td><td>${escapeHtml(u.profile)}</td><td>${escapeHtml(u.reason)}</td></tr>`,
        )
        .join('')}</tbody></table>`,
    );
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may be fetched or run: the report is a document, not an application.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
