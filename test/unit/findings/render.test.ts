import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseFormat, REPORT_FORMATS, renderResult } from '../../../src/findings/render/index.js';
import { formatMetrics, hintLines, summaryLine } from '../../../src/findings/render/table.js';
import { FIXTURE } from './fixture.js';

describe('findings renderers: table and wide', () => {
  const table = renderResult('table', FIXTURE);
  const lines = table.split('\n');

  it('lists failures first, then warnings, passes and skips, kubectl-style', () => {
    assert.deepEqual(
      lines.slice(0, 5).map((line) => line.split(/\s{3,}/).slice(0, 3)),
      [
        ['STATUS', 'CHECK', 'SUBJECT'],
        ['fail', 'dns.hop.nodelocal', 'node/worker2.kube.local'],
        ['warn', 'dns.latency', 'worker1.kube.local→worker3.kube.local'],
        ['pass', 'dns.lookup.cluster', 'node/worker1.kube.local'],
        ['skip', 'dns.lookup.external', 'cluster'],
      ],
    );
    assert.equal(lines[0]?.trimEnd(), lines[0], 'no trailing spaces');
  });
  it('prints one fix line per hint, the unavailable nodes and the counts', () => {
    assert.ok(
      lines.includes(
        'fix (dns.hop.nodelocal on node/worker2.kube.local): restart the nodelocaldns pod on worker2.kube.local: kubectl -n kube-system delete pod -l k8s-app=nodelocaldns',
      ),
      table,
    );
    assert.ok(
      lines.some((line) => /^worker3\.kube\.local\s+pod-probe\s+cannot pull image/.test(line)),
      table,
    );
    assert.equal(lines.at(-2), '4 findings: 1 fail, 1 warn, 1 pass, 1 skip; 1 node unavailable');
  });
  it('shows metrics, evidence and hints in columns with -o wide, without the fix lines', () => {
    const wide = renderResult('wide', FIXTURE);
    const header = wide.split('\n')[0] ?? '';
    assert.deepEqual(header.split(/\s{3,}/), ['STATUS', 'CHECK', 'SUBJECT', 'SUMMARY', 'METRICS', 'EVIDENCE', 'HINT']);
    assert.match(wide, /attempts=3 reason=timeout/);
    assert.doesNotMatch(wide, /^fix \(/m);
  });
  it('colours the status only when asked, keeping columns aligned', () => {
    const coloured = renderResult('table', FIXTURE, {}, { colour: true });
    assert.ok(coloured.includes('\u001b[31mfail\u001b[0m'), coloured);
    const strip = (text: string) => text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
    assert.equal(strip(coloured), table);
    assert.doesNotMatch(table, new RegExp(String.fromCharCode(27)));
  });
  it('puts a command’s own view above the findings', () => {
    const out = renderResult('table', FIXTURE, {
      text: (result, o) => `MATRIX of ${result.data.probes} wide=${o.wide}`,
    });
    assert.ok(out.startsWith('MATRIX of 4 wide=false\n\nSTATUS'), out);
  });
  it('says so when there is nothing to show', () => {
    assert.equal(
      renderResult('table', { ...FIXTURE, findings: [], unavailable: [] }),
      'no findings\n\n0 findings: 0 fail, 0 warn, 0 pass, 0 skip\n',
    );
  });
  it('helpers: metrics in key order, hints grouped across subjects, summary counts', () => {
    assert.equal(formatMetrics({ b: 1, a: 'x', c: true }), 'a=x b=1 c=true');
    const twice = [
      { ...FIXTURE.findings[1]!, subject: 'node/a' },
      { ...FIXTURE.findings[1]!, subject: 'node/b' },
    ];
    assert.deepEqual(hintLines(twice), [`fix (dns.hop.nodelocal on 2 subjects): ${FIXTURE.findings[1]!.hint}`]);
    assert.equal(summaryLine({ ...FIXTURE, unavailable: [] }), '4 findings: 1 fail, 1 warn, 1 pass, 1 skip');
  });
});

describe('findings renderers: json and yaml', () => {
  it('are the whole result, unchanged', () => {
    assert.deepEqual(JSON.parse(renderResult('json', FIXTURE)), FIXTURE);
    assert.deepEqual(parseYaml(renderResult('yaml', FIXTURE)), FIXTURE);
  });
  it('-o is validated', () => {
    assert.equal(parseFormat('yaml', REPORT_FORMATS), 'yaml');
    assert.throws(() => parseFormat('xml', REPORT_FORMATS), /invalid output format "xml"/);
  });
});
