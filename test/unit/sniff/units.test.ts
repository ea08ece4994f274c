import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NetdiagError } from '../../../src/lib/errors.js';
import { formatBytes, parsePositiveDuration, parsePositiveInt, parseSize } from '../../../src/sniff/units.js';

const usage = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof NetdiagError && err.exitCode === 2 && pattern.test(err.message));

describe('sniff units', () => {
  it('parses sizes with SI and IEC units', () => {
    assert.equal(parseSize('1048576', 'max-size'), 1_048_576);
    assert.equal(parseSize('500k', 'max-size'), 500_000);
    assert.equal(parseSize('100MB', 'max-size'), 100_000_000);
    assert.equal(parseSize('2Gi', 'max-size'), 2 * 1024 ** 3);
    assert.equal(parseSize('1.5GiB', 'max-size'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('64 KiB', 'max-size'), 65_536);
  });

  it('rejects bad sizes naming the flag', () => {
    usage(() => parseSize('10 parsecs', '--max-size'), /invalid --max-size "10 parsecs"/);
    usage(() => parseSize('-5M', '--max-size'), /invalid --max-size/);
    usage(() => parseSize('0', '--max-size'), /greater than zero/);
    usage(() => parseSize('', '--max-size'), /invalid --max-size/);
  });

  it('parses strictly positive durations', () => {
    assert.equal(parsePositiveDuration('10s', 'duration'), 10_000);
    assert.equal(parsePositiveDuration('1m30s', 'duration'), 90_000);
    assert.equal(parsePositiveDuration('250ms', 'duration'), 250);
    assert.equal(parsePositiveDuration('2', 'duration'), 2000);
    usage(() => parsePositiveDuration('0s', 'duration'), /--duration "0s": must be greater than zero/);
    usage(() => parsePositiveDuration('ten seconds', 'duration'), /duration/);
  });

  it('checks whole positive numbers', () => {
    assert.equal(parsePositiveInt(5, '--count'), 5);
    usage(() => parsePositiveInt(0, '--count'), /invalid --count 0/);
    usage(() => parsePositiveInt(1.5, '--count'), /invalid --count/);
    usage(() => parsePositiveInt(300000, '--snaplen', 262144), /invalid --snaplen 300000/);
  });

  it('formats byte counts', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(900.2884), '900 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
  });
});
