/**
 * `-o junit`: JUnit XML as CI systems read it (Jenkins, GitLab, GitHub test reporters), one testcase per finding,
 * as cilium-cli's `--junit-file` users asked for. classname = the finding id, name = its subject. fail → <failure>
 * with the evidence and the hint; skip → <skipped>; warn passes with the warning in <system-out> (JUnit has no
 * warning state, and a warning must not fail a pipeline); each unavailable node is a skipped testcase.
 */
import { countByStatus, sortFindings, type DiagnosticResult, type Finding } from '../model.js';
import { formatMetrics } from './table.js';

/** XML 1.0 text and attribute escaping; characters XML cannot carry at all are replaced. */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** The evidence, metrics and hint of a finding as plain text. */
function details(finding: Finding): string {
  const lines: string[] = [finding.summary];
  const metrics = formatMetrics(finding.metrics);
  if (metrics) lines.push(`metrics: ${metrics}`);
  for (const evidence of finding.evidence) {
    lines.push(`on ${evidence.where}:`);
    if (evidence.command) lines.push(`$ ${evidence.command}`);
    if (evidence.output) lines.push(evidence.output);
  }
  if (finding.hint) lines.push(`fix: ${finding.hint}`);
  return lines.join('\n');
}

function testcase(finding: Finding): string {
  const open = `    <testcase classname="${escapeXml(finding.id)}" name="${escapeXml(finding.subject)}"`;
  switch (finding.status) {
    case 'pass':
      return `${open}/>`;
    case 'fail':
      return `${open}>\n      <failure message="${escapeXml(finding.summary)}" type="fail">${escapeXml(details(finding))}</failure>\n    </testcase>`;
    case 'warn':
      return `${open}>\n      <system-out>${escapeXml(`warning: ${details(finding)}`)}</system-out>\n    </testcase>`;
    case 'skip':
      return `${open}>\n      <skipped message="${escapeXml(finding.summary)}"/>\n    </testcase>`;
  }
}

export function renderJunit(result: DiagnosticResult<unknown>): string {
  const counts = countByStatus(result.findings);
  const tests = result.findings.length + result.unavailable.length;
  const skipped = counts.skip + result.unavailable.length;
  const totals = `tests="${tests}" failures="${counts.fail}" errors="0" skipped="${skipped}"`;
  const name = escapeXml(`kubectl netdiag ${result.command}`);
  const cases = [
    ...sortFindings(result.findings).map(testcase),
    ...result.unavailable.map(
      (u) =>
        `    <testcase classname="${escapeXml(`${result.command}.unavailable`)}" name="${escapeXml(`node/${u.node}`)}">\n      <skipped message="${escapeXml(`unavailable (${u.profile}): ${u.reason}`)}"/>\n    </testcase>`,
    ),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${name}" ${totals}>`,
    `  <testsuite name="${name}" ${totals}>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
