import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NetdiagError } from '../../../src/lib/errors.js';
import { formatBytes, parsePositiveDuration, parsePositiveInt, parseSize } from '../../../src/lib/units.js';

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

describe('summary lines', () => {
  it('totals packets, bytes and kernel drops and says why the capture stopped', async () => {
    const { summaryLines, statsLines } = await import('../../../src/sniff/render.js');
    const lines = summaryLines({
      mode: 'ephemeral',
      reason: '',
      format: 'pcapng',
      output: 'web.pcapng',
      targets: [
        {
          label: 'ns/a/main',
          where: '',
          packets: 10,
          bytes: 2048,
          tcpdump: { droppedByKernel: 1 },
          exitCode: 0,
          error: undefined,
        },
        {
          label: 'ns/b/main',
          where: '',
          packets: 5,
          bytes: 1024,
          tcpdump: { droppedByKernel: 2 },
          exitCode: 0,
          error: undefined,
        },
      ],
      stopReason: 'interrupted',
      stopDetail: 'SIGINT',
      bytesWritten: 4096,
      written: true,
      captureMs: 12_340,
      failure: undefined,
    });
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /ns\/a\/main: 10 packets, 2\.0 KiB, kernel dropped 1/);
    assert.equal(
      lines[2],
      'captured 15 packets (3.0 KiB) from 2 targets in 12.3s → web.pcapng (pcapng, 4.0 KiB); kernel dropped 3; ephemeral mode; stopped by the user',
    );
    const empty = summaryLines({
      mode: 'node',
      reason: '',
      format: 'pcap',
      output: 'kept.pcap',
      targets: [],
      stopReason: 'interrupted',
      stopDetail: 'SIGINT',
      bytesWritten: 0,
      written: false,
      captureMs: 1000,
      failure: undefined,
    });
    assert.equal(
      empty.at(-1),
      'captured 0 packets (0 B) from 0 targets in 1s; nothing written to kept.pcap; kernel dropped 0; node mode; stopped by the user',
    );
    const stats = statsLines([
      {
        target: 'ns/a/main',
        linkType: 276,
        packets: 3,
        bytes: 900,
        capturedBytes: 900,
        streamBytes: 972,
        packetsPerSecond: 1.5,
        bytesPerSecond: 450.4,
        lastPacketAt: 0,
        error: undefined,
      },
    ]);
    assert.match(stats[0]!, /^ns\/a\/main\s+3 pkts\s+900 B\s+2 pkt\/s\s+450 B\/s$/);
  });
});
