/**
 * `-o markdown`: for a ticket, a pull request or a chat message. A table of the findings (failures first), the
 * evidence of every failed or warned finding in code blocks, the unavailable nodes.
 */
import { sortFindings, type DiagnosticResult, type Finding } from '../model.js';
import { formatMetrics, summaryLine } from './table.js';

/** Table cells hold one line and no pipes. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** A fence longer than any backtick run in the text, so output containing ``` cannot end the block. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${text}\n${fence}`;
}

const STATUS_MARK: Readonly<Record<Finding['status'], string>> = {
  fail: '❌ fail',
  warn: '⚠️ warn',
  pass: '✅ pass',
  skip: '⏭️ skip',
};

export function renderMarkdown(result: DiagnosticResult<unknown>, above = ''): string {
  const findings = sortFindings(result.findings);
  const parts = [`# kubectl netdiag ${result.command}`, summaryLine(result)];
  if (above) parts.push(above.trimEnd());
  if (findings.length > 0) {
    parts.push(
      [
        '| Status | Check | Subject | Summary | Hint |',
        '| --- | --- | --- | --- | --- |',
        ...findings.map(
          (f) =>
            `| ${STATUS_MARK[f.status]} | \`${cell(f.id)}\` | ${cell(f.subject)} | ${cell(f.summary)} | ${cell(f.hint ?? '')} |`,
        ),
      ].join('\n'),
    );
  }
  const explained = findings.filter((f) => f.status === 'fail' || f.status === 'warn');
  if (explained.length > 0) {
    parts.push('## Evidence');
    for (const f of explained) {
      parts.push(`### ${f.status}: \`${f.id}\` on ${f.subject}`);
      const metrics = formatMetrics(f.metrics);
      if (metrics) parts.push(`Metrics: ${metrics}`);
      for (const evidence of f.evidence) {
        const lines = [evidence.command ? `$ ${evidence.command}` : '', evidence.output ?? ''].filter(Boolean);
        parts.push(`On ${evidence.where}:`);
        if (lines.length > 0) parts.push(fenced(lines.join('\n')));
      }
      if (f.hint) parts.push(`**Fix:** ${f.hint}`);
    }
  }
  if (result.unavailable.length > 0) {
    parts.push('## Unavailable nodes');
    parts.push(result.unavailable.map((u) => `- ${u.node} (${u.profile}): ${u.reason}`).join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}
