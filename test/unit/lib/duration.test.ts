import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NetdiagError } from '../../../src/lib/errors.js';
import { formatDuration, parseDuration } from '../../../src/lib/duration.js';

describe('parseDuration (kubectl --request-timeout syntax)', () => {
  it('reads bare integers as seconds and 0 as no timeout', () => {
    assert.equal(parseDuration('5', 'request-timeout'), 5000);
    assert.equal(parseDuration('0', 'request-timeout'), 0);
  });
  it('reads Go durations', () => {
    assert.equal(parseDuration('500ms', 'x'), 500);
    assert.equal(parseDuration('30s', 'x'), 30_000);
    assert.equal(parseDuration('1m30s', 'x'), 90_000);
    assert.equal(parseDuration('1h', 'x'), 3_600_000);
    assert.equal(parseDuration('1.5s', 'x'), 1500);
  });
  it('rejects garbage with a usage error naming the flag', () => {
    for (const bad of ['', 'abc', '10x', '5s10', '-1s']) {
      assert.throws(
        () => parseDuration(bad, 'request-timeout'),
        (err: unknown) =>
          err instanceof NetdiagError && err.exitCode === 2 && err.message.includes('--request-timeout'),
        bad,
      );
    }
  });
  it('formats durations for messages', () => {
    assert.equal(formatDuration(90_000), '90s');
    assert.equal(formatDuration(120_000), '2m');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(250), '250ms');
  });
});
