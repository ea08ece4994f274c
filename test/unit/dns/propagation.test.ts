import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePropagation, propagationFindings } from '../../../src/dns/propagation.js';

describe('propagation poll output', () => {
  const cases: [string, ReturnType<typeof parsePropagation>][] = [
    ['@@netdiag resolved 1021.35 1021.40 1 10.233.12.7', { resolved: true, seconds: 0.05, attempts: 1 }],
    ['noise\n@@netdiag never 100.00 161.20 240', { resolved: false, seconds: 61.2, attempts: 240 }],
    ['sh: dig: not found', undefined],
  ];
  for (const [output, expected] of cases)
    it(JSON.stringify(output), () => assert.deepEqual(parsePropagation(output), expected));
});

describe('propagation findings', () => {
  const findings = propagationFindings(
    [
      { node: 'w1', resolvedAfterMs: 180, attempts: 1 },
      { node: 'w2', resolvedAfterMs: 13_400, attempts: 60 },
      { node: 'w3', resolvedAfterMs: null, attempts: 290 },
    ],
    'netdiag-dns-x.default.svc.cluster.local',
    60_000,
  );
  it('pass under 5 s, warn above, fail when never resolved', () =>
    assert.deepEqual(
      findings.map((f) => [f.subject, f.status, f.metrics?.resolvedAfterMs]),
      [
        ['node/w1', 'pass', 180],
        ['node/w2', 'warn', 13_400],
        ['node/w3', 'fail', -1],
      ],
    ));
  it('says the time', () => assert.match(findings[1]?.summary ?? '', /resolved after 13\.4 s \(60 queries\)/));
});
