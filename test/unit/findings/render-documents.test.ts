import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseJunit } from 'junit2json';
import { escapeHtml, renderResult } from '../../../src/findings/render/index.js';
import { FIXTURE } from './fixture.js';

describe('findings renderers: markdown', () => {
  const markdown = renderResult('markdown', FIXTURE, { markdown: (r) => `Probes: ${r.data.probes}` });
  it('a title, the counts, the command’s view, then the table failures first', () => {
    const lines = markdown.split('\n');
    assert.deepEqual(lines.slice(0, 5), [
      '# kubectl netdiag dns',
      '',
      '4 findings: 1 fail, 1 warn, 1 pass, 1 skip; 1 node unavailable',
      '',
      'Probes: 4',
    ]);
    const rows = lines.filter((line) => line.startsWith('| ')).slice(2);
    assert.deepEqual(
      rows.map((row) => row.split(' | ')[1]),
      ['`dns.hop.nodelocal`', '`dns.latency`', '`dns.lookup.cluster`', '`dns.lookup.external`'],
    );
  });
  it('evidence of failures and warnings in fences, with the fix; passes are not repeated', () => {
    assert.match(markdown, /### fail: `dns\.hop\.nodelocal` on node\/worker2\.kube\.local/);
    assert.match(markdown, /```\n\$ dig @169\.254\.25\.10 kubernetes\.default\n;; connection timed out/);
    assert.match(markdown, /\*\*Fix:\*\* restart the nodelocaldns pod/);
    assert.doesNotMatch(markdown, /### pass/);
    assert.match(markdown, /## Unavailable nodes\n\n- worker3\.kube\.local \(pod-probe\): cannot pull image/);
  });
  it('keeps a table cell on one line and a fence unbroken by backticks in the output', () => {
    const tricky = {
      ...FIXTURE,
      findings: [
        {
          ...FIXTURE.findings[1]!,
          summary: 'a | b\nc',
          evidence: [{ where: 'x', output: 'before\n```\nafter' }],
        },
      ],
    };
    const out = renderResult('markdown', tricky);
    assert.match(out, /\| a \\\| b c \|/);
    assert.match(out, /````\nbefore\n```\nafter\n````/);
  });
});

describe('findings renderers: html', () => {
  const html = renderResult('html', FIXTURE, {
    html: () => [{ title: 'Heatmap', html: '<svg id="heat" width="10" height="10"></svg>' }],
  });
  it('is one self-contained document: no script, no external reference, a CSP that forbids fetching', () => {
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    assert.doesNotMatch(html, /<script|<link|<iframe|@import|url\(|src=|href=/i);
    assert.match(
      html,
      /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"/,
    );
  });
  it('has the command’s sections above the findings, failures first, evidence open for failures', () => {
    assert.ok(html.indexOf('<h2>Heatmap</h2>') < html.indexOf('<h2>Findings</h2>'));
    const order = ['dns.hop.nodelocal', 'dns.latency', 'dns.lookup.cluster', 'dns.lookup.external'].map((id) =>
      html.indexOf(`<code>${id}</code>`),
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    );
    assert.ok(order.every((index) => index > 0));
    assert.match(html, /<details open><summary>evidence<\/summary><div>metrics: <code>attempts=3 reason=timeout/);
    assert.match(html, /<h2>Unavailable nodes<\/h2>/);
  });
  it('escapes everything it inserts', () => {
    const hostile = { ...FIXTURE, findings: [{ ...FIXTURE.findings[0]!, summary: '<img src=x onerror=alert(1)>' }] };
    const out = renderResult('html', hostile);
    assert.match(out, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('findings renderers: junit', () => {
  it('one testcase per finding (and per unavailable node), read back by a JUnit XML parser', async () => {
    const xml = renderResult('junit', FIXTURE);
    const parsed = (await parseJunit(xml)) as {
      name: string;
      tests: number;
      failures: number;
      skipped: number;
      testsuite: {
        testcase: {
          classname: string;
          name: string;
          failure?: { message: string; inner?: string }[];
          skipped?: { message: string }[];
          'system-out'?: string[];
        }[];
      }[];
    };
    assert.equal(parsed.name, 'kubectl netdiag dns');
    assert.deepEqual([parsed.tests, parsed.failures, parsed.skipped], [5, 1, 2]);
    const cases = parsed.testsuite[0]?.testcase ?? [];
    assert.deepEqual(
      cases.map((c) => `${c.classname} ${c.name}`),
      [
        'dns.hop.nodelocal node/worker2.kube.local',
        'dns.latency worker1.kube.local→worker3.kube.local',
        'dns.lookup.cluster node/worker1.kube.local',
        'dns.lookup.external cluster',
        'dns.unavailable node/worker3.kube.local',
      ],
    );
    assert.equal(cases[0]?.failure?.[0]?.message, 'nodelocaldns on 169.254.25.10 does not answer');
    assert.match(cases[0]?.failure?.[0]?.inner ?? '', /\$ dig @169\.254\.25\.10[\s\S]*fix: restart the nodelocaldns/);
    assert.match(cases[1]?.['system-out']?.[0] ?? '', /^warning: p95 lookup latency 180 ms <over> 100 ms & rising/);
    assert.equal(cases[2]?.failure, undefined);
    assert.equal(cases[3]?.skipped?.[0]?.message, 'no external name given (--external)');
    assert.match(cases[4]?.skipped?.[0]?.message ?? '', /^unavailable \(pod-probe\): cannot pull image/);
  });
  it('replaces characters XML cannot carry', async () => {
    const xml = renderResult('junit', {
      ...FIXTURE,
      findings: [{ ...FIXTURE.findings[1]!, evidence: [{ where: 'x', output: 'bell\u0007 nul\u0000' }] }],
      unavailable: [],
    });
    const parsed = (await parseJunit(xml)) as { tests: number };
    assert.equal(parsed.tests, 1);
    assert.match(xml, /bell\uFFFD nul\uFFFD/);
  });
});
