import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BwData, PairResult } from '../../../src/bw/model.js';
import { bwData, pairResult, W1, W2, W3 } from './data.js';
import { bwFindings } from '../../../src/bw/checks.js';
import { renderResult } from '../../../src/findings/render/index.js';
import {
  BW_VIEW,
  heatOf,
  htmlSections,
  markdownMatrix,
  renderMatrix,
  renderPairRows,
  shortNames,
} from '../../../src/bw/render.js';

const result = (from: string, to: string, bitsPerSecond: number | null, error: string | null = null): PairResult =>
  pairResult(from, to, bitsPerSecond, {
    bytesSent: bitsPerSecond,
    retransmits: bitsPerSecond === null ? null : 12,
    rttMs: bitsPerSecond === null ? null : 0.25,
    cpu: bitsPerSecond === null ? null : { sender: 55, receiver: 31 },
    error,
  });

const data: BwData = bwData([], {
  networks: ['pod'],
  schedule: [{ network: 'pod', rounds: 6, lowerBound: 6, optimal: true }],
  results: [
    result(W1, W2, 0.098e9),
    result(W2, W1, 0.097e9),
    result(W1, W3, 5.12e9),
    result(W3, W1, 4.9e9),
    result(W2, W3, null, 'unable to connect to server: Connection timed out'),
  ],
  wallTimeMs: 66_400,
});

describe('bw views', () => {
  it('-o table: the matrix, rows from and columns to, Gbit/s, short names, gaps for unmeasured pairs', () => {
    assert.equal(
      renderMatrix(data, { colour: false }),
      [
        'pod network, Gbit/s received (rows: from, columns: to)',
        'from \\ to  worker1  worker2  worker3',
        'worker1          —     0.10     5.12',
        'worker2       0.10        —   failed',
        'worker3       4.90        ·        —',
        '',
        '5 measurement(s) in 66.4s; pod: 6 round(s) (the fewest possible)',
        '',
      ].join('\n'),
    );
  });

  it('colours cells by heat on a terminal, keeping the columns aligned', () => {
    const text = renderMatrix(data, { colour: true });
    assert.ok(text.includes('\u001b[31m   0.10\u001b[0m'), 'worker1→worker2 in red: far below');
    assert.ok(text.includes('\u001b[32m   5.12\u001b[0m'), 'worker1→worker3 in green');
    // eslint-disable-next-line no-control-regex
    assert.equal(text.replace(/\u001b\[\d+m/g, ''), renderMatrix(data, { colour: false }));
  });

  it('heat: good ≥ 80 % of the reference, poor below a third, failed without a rate', () => {
    assert.equal(heatOf(result(W1, W2, 8e9), 10e9), 'good');
    assert.equal(heatOf(result(W1, W2, 5e9), 10e9), 'fair');
    assert.equal(heatOf(result(W1, W2, 3e9), 10e9), 'poor');
    assert.equal(heatOf(result(W1, W2, null), 10e9), 'failed');
  });

  it('-o wide: one row per pair with every number', () => {
    const lines = renderPairRows(data).split('\n');
    assert.match(
      lines[0] ?? '',
      /^FROM +TO +NETWORK +PROTO +RECEIVED +SENT +RETRANS +RTT +JITTER +LOST +CPU S\/R +ROUND +ERROR$/,
    );
    assert.match(
      lines[1] ?? '',
      /^worker1\.kube\.local +worker2\.kube\.local +pod +tcp +0\.10G +0\.10G +12 +0\.25ms +- +- +55\/31% +1$/,
    );
    assert.match(lines[5] ?? '', /Connection timed out$/);
  });

  it('html: a heatmap table per network, cells coloured, titles escaped', () => {
    const [section, ...rest] = htmlSections(data);
    assert.deepEqual(rest, []);
    assert.equal(section?.title, 'pod network, Gbit/s received (rows: from, columns: to)');
    assert.match(section?.html ?? '', /<td style="background:#f2a19a" title="12 retransmits">0\.10<\/td>/);
    assert.match(
      section?.html ?? '',
      /<td style="background:#c62828" title="unable to connect to server: Connection timed out">failed<\/td>/,
    );
  });

  it('markdown: the matrix as a table', () => {
    const lines = markdownMatrix(data).split('\n');
    assert.deepEqual(lines.slice(2, 7), [
      '| from \\ to | worker1 | worker2 | worker3 |',
      '|---|---:|---:|---:|',
      '| worker1 | — | 0.10 | 5.12 |',
      '| worker2 | 0.10 | — | failed |',
      '| worker3 | 4.90 | · | — |',
    ]);
  });

  it('short names only when every node shares the suffix', () => {
    assert.deepEqual([...shortNames([W1, W2]).values()], ['worker1', 'worker2']);
    assert.deepEqual([...shortNames([W1, 'node-a']).values()], [W1, 'node-a']);
  });

  it('every -o format renders a run through the shared renderers, bw’s view above the findings', () => {
    const result = { command: 'bw', data, findings: bwFindings(data, new Map()), unavailable: [] };
    const table = renderResult('table', result, BW_VIEW);
    assert.ok(table.startsWith(renderMatrix(data, { colour: false })), table);
    assert.match(table, /bw\.pair\.outlier/);
    assert.ok(renderResult('wide', result, BW_VIEW).startsWith(renderPairRows(data)));
    assert.ok(renderResult('markdown', result, BW_VIEW).includes(markdownMatrix(data).split('\n')[2] ?? '?'));
    const html = renderResult('html', result, BW_VIEW);
    assert.match(html, /<table class="bw-heatmap">/);
    assert.match(html, /pod network, Gbit\/s received/);
    assert.match(renderResult('junit', result, BW_VIEW), /bw\.pair\.outlier/);
  });
});
