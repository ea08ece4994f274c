import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bwFindings } from '../../../src/bw/checks.js';
import { assertMatchesSchema, schemaErrors } from '../../schema.js';
import { bwData, pairResult, W1, W2, W3 } from './data.js';

const data = bwData(
  [
    pairResult(W1, W2, 0.1e9),
    pairResult(W2, W1, 5e9),
    pairResult(W1, W3, 5e9),
    pairResult(W3, W1, null, { error: 'unable to connect to server: Connection timed out' }),
  ],
  { schedule: [{ network: 'pod', rounds: 6, lowerBound: 6, optimal: true }] },
);
const result = { command: 'bw', data, findings: bwFindings(data, new Map()), unavailable: [] };

describe('docs/schema/bw.schema.json', () => {
  it('accepts a result with passes, an outlier and a failed test, after a JSON round trip', () => {
    assertMatchesSchema('bw', JSON.parse(JSON.stringify(result)));
  });
  it('rejects a result without the per-pair fields the contract promises', () => {
    const [first, ...rest] = data.results;
    const { rttMs: _dropped, ...withoutRtt } = first ?? pairResult(W1, W2, 1);
    const broken = { ...result, data: { ...data, results: [withoutRtt, ...rest] } };
    assert.deepEqual(schemaErrors('bw', JSON.parse(JSON.stringify(broken))), [
      "/data/results/0 must have required property 'rttMs'",
    ]);
  });
});
