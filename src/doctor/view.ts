/**
 * doctor's own parts of the human reports, above the findings of every command: the diagnoses first (table, markdown,
 * html), and in the html report the other commands' own views — bw's heatmap, check's matrix per layer — with each
 * node's DNS hops and latency and each node's facts side by side, so one file holds the whole run.
 */
import { htmlSections as bwHtml } from '../bw/render.js';
import { matricesHtml } from '../check/view.js';
import { type DnsData } from '../dns/engine.js';
import { escapeHtml, STATUS_FILL, type HtmlSection, type ResultView } from '../findings/render/index.js';
import { type FleetRow } from '../node/checks.js';
import { type DoctorData, type DoctorResult, doctorText } from './report.js';

const SEVERITY_FILL = { error: STATUS_FILL.fail, warning: STATUS_FILL.warn } as const;

/** Table cells hold one line and no pipes. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function diagnosesMarkdown(data: DoctorData): string {
  const parts = ['## Diagnoses'];
  if (data.diagnoses.length === 0) parts.push('None: no rule found a cause.');
  else
    parts.push(
      [
        '| Severity | Diagnosis | Subject | Cause | Next |',
        '| --- | --- | --- | --- | --- |',
        ...data.diagnoses.map(
          (d) => `| ${d.severity} | \`${d.id}\` | ${cell(d.subject)} | ${cell(d.cause)} | \`${cell(d.next)}\` |`,
        ),
      ].join('\n'),
    );
  const changes = data.baseline?.changes ?? [];
  if (data.baseline) {
    parts.push(`## Changes since ${data.baseline.takenAt}`);
    parts.push(
      changes.length === 0
        ? 'None.'
        : changes.map((c) => `- ${c.kind}: \`${c.id}\` on ${c.subject} — ${cell(c.summary)}`).join('\n'),
    );
  }
  return parts.join('\n\n');
}

function diagnosesHtml(data: DoctorData): HtmlSection {
  if (data.diagnoses.length === 0) return { title: 'Diagnoses', html: '<p>None: no rule found a cause.</p>' };
  const captureOf = (id: string, subject: string) =>
    data.captures.filter((c) => c.diagnosis.id === id && c.diagnosis.subject === subject);
  const rows = data.diagnoses.map((d) => {
    const supporting = d.supporting.map(
      (ref) => `<li><code>${escapeHtml(ref.id)}</code> ${escapeHtml(ref.subject)}</li>`,
    );
    const captures = captureOf(d.id, d.subject).map(
      (c) =>
        `<div>capture <code>${escapeHtml(c.file)}</code>: ${c.sent} probe packets left ${escapeHtml(c.from)}, ${c.arrived} arrived at ${escapeHtml(c.to)}</div>`,
    );
    return [
      '<tr>',
      `<td><span class="pill" style="background:${SEVERITY_FILL[d.severity]}">${d.severity}</span></td>`,
      `<td><code>${escapeHtml(d.id)}</code></td>`,
      `<td>${escapeHtml(d.subject)}</td>`,
      `<td>${escapeHtml(d.cause)}<div class="hint">next: <code>${escapeHtml(d.next)}</code></div>${captures.join('')}`,
      `<details><summary>${d.supporting.length} supporting findings</summary><ul>${supporting.join('')}</ul></details></td>`,
      '</tr>',
    ].join('');
  });
  return {
    title: 'Diagnoses',
    html: `<table><tr><th>severity</th><th>diagnosis</th><th>subject</th><th>cause</th></tr>${rows.join('')}</table>`,
  };
}

function changesHtml(data: DoctorData): HtmlSection[] {
  if (!data.baseline) return [];
  const rows = data.baseline.changes.map(
    (c) =>
      `<tr><td>${escapeHtml(c.kind)}</td><td><code>${escapeHtml(c.id)}</code></td><td>${escapeHtml(c.subject)}</td><td>${escapeHtml(c.summary)}</td></tr>`,
  );
  return [
    {
      title: `Changes since ${data.baseline.takenAt}`,
      html:
        rows.length === 0
          ? '<p>None.</p>'
          : `<table><tr><th>change</th><th>check</th><th>subject</th><th>what</th></tr>${rows.join('')}</table>`,
    },
  ];
}

/** Each node's facts side by side, a value unlike the majority's marked. */
function nodeFactsHtml(rows: readonly FleetRow[]): HtmlSection[] {
  const nodes = [...new Set(rows.flatMap((row) => Object.keys(row.values)))].sort();
  if (nodes.length === 0) return [];
  const head = `<tr><th>fact</th>${nodes.map((node) => `<th>${escapeHtml(node)}</th>`).join('')}</tr>`;
  const body = rows.map((row) => {
    const cells = nodes.map((node) => {
      const value = escapeHtml(row.values[node] ?? '-');
      return row.odd.includes(node)
        ? `<td style="background:${STATUS_FILL.warn};color:#fff">${value}</td>`
        : `<td>${value}</td>`;
    });
    return `<tr><th>${escapeHtml(row.fact)}</th>${cells.join('')}</tr>`;
  });
  return [{ title: 'Node facts', html: `<table>${head}${body.join('')}</table>` }];
}

/** Each node's DNS hops in path order with their latency (median / p95 over the answered queries). */
function dnsHopsHtml(data: DnsData): HtmlSection[] {
  if (data.resolvers.length === 0) return [];
  const rows = data.resolvers.map((row) => {
    const latency = row.medianMs === undefined ? 'no answer' : `${row.medianMs} / ${row.p95Ms ?? '-'} ms`;
    const fill = row.unanswered > 0 ? ` style="background:${STATUS_FILL.fail};color:#fff"` : '';
    return `<tr><td>${escapeHtml(row.node)}</td><td>${escapeHtml(row.label)} <code>${escapeHtml(row.address)}</code></td><td>${row.protocol}</td><td${fill}>${escapeHtml(latency)}</td><td>${row.answered}/${row.queries}</td></tr>`;
  });
  return [
    {
      title: 'DNS hops, latency per node',
      html: `<table><tr><th>node</th><th>hop</th><th>protocol</th><th>median / p95</th><th>answered</th></tr>${rows.join('')}</table>`,
    },
  ];
}

export const doctorView: ResultView<DoctorData> = {
  text: doctorText,
  markdown: (result: DoctorResult) => diagnosesMarkdown(result.data),
  html: (result: DoctorResult) => [
    diagnosesHtml(result.data),
    ...changesHtml(result.data),
    ...(result.data.bw ? bwHtml(result.data.bw) : []),
    ...(result.data.check ? matricesHtml(result.data.check) : []),
    ...(result.data.dns ? dnsHopsHtml(result.data.dns) : []),
    ...(result.data.node ? nodeFactsHtml(result.data.node.fleet) : []),
  ],
};
