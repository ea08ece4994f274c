import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { CaptureStatsTap, parseTcpdumpStats, tcpdumpStatsToInterfaceStatistics } from '../../../src/pcap/stats.js';
import { FIXTURES, chunked, classicPcap, ethernet, ipv4Udp, ts } from './frames.js';

/** Pipes `bytes` through a tap into memory; returns what came out, as the chunk objects. */
async function throughTap(tap: CaptureStatsTap, bytes: Buffer, sizes?: number[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await pipeline(
    chunked(bytes, sizes),
    tap,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return out;
}

for (const [name, linkType] of [
  ['lo-ethernet-us.pcap', 1],
  ['any-sll2-ns.pcap', 276],
  ['any-sll-us.pcap', 113],
] as const) {
  test(`tap passes ${name} through byte-exact and counts its packets as their records complete`, async () => {
    const bytes = readFileSync(join(FIXTURES, name));
    const tap = new CaptureStatsTap({ target: name });
    const out = await throughTap(tap, bytes, [3, 50, 1, 128]);
    assert.ok(Buffer.concat(out).equals(bytes), 'the output is the input, byte for byte');
    const s = tap.snapshot();
    assert.equal(s.error, undefined);
    assert.equal(s.linkType, linkType);
    assert.equal(s.packets, 6);
    assert.equal(s.streamBytes, bytes.length);
    assert.equal(s.capturedBytes, bytes.length - 24 - 6 * 16);
    assert.equal(s.bytes, s.capturedBytes, 'no snaplen cut in these captures');
  });
}

test('tap counts wire bytes (origLen) apart from captured bytes, big-endian nanosecond input', async () => {
  const pkts = [0, 1, 2].map((i) => {
    const full = ethernet(ipv4Udp('10.0.0.1', '10.0.0.2', 1, 2, Buffer.alloc(500, i)));
    return { tsNanos: ts(1, i), data: full.subarray(0, 100), origLen: full.length };
  });
  const tap = new CaptureStatsTap({ target: 't' });
  await throughTap(tap, classicPcap({ linkType: 1, bigEndian: true, nanos: true, snaplen: 100 }, pkts), [2, 1, 1, 40]);
  const s = tap.snapshot();
  assert.equal(s.packets, 3);
  assert.equal(s.capturedBytes, 300);
  assert.equal(s.bytes, 3 * pkts[0]!.origLen);
});

test('rates come from the local clock over the window and fall to 0 when idle', async () => {
  let now = 10_000;
  const tap = new CaptureStatsTap({ target: 't', windowMs: 5000, now: () => now });
  const writes: Promise<void>[] = [];
  const frame = ethernet(ipv4Udp('10.0.0.1', '10.0.0.2', 1, 2, Buffer.alloc(58)));
  assert.equal(frame.length, 100);
  tap.resume();
  tap.write(classicPcap({ linkType: 1 }, []));
  // 10 packets per second for 4 seconds
  for (let i = 0; i < 40; i++) {
    const rec = classicPcap({ linkType: 1 }, [{ tsNanos: ts(1, i), data: frame }]).subarray(24);
    writes.push(new Promise((r) => tap.write(rec, () => r())));
    await new Promise((r) => setImmediate(r));
    now += 100;
  }
  await Promise.all(writes);
  const s = tap.snapshot();
  assert.equal(s.packets, 40);
  assert.ok(Math.abs(s.packetsPerSecond - 10) < 1, `~10 pps, got ${s.packetsPerSecond}`);
  assert.ok(Math.abs(s.bytesPerSecond - 1000) < 100, `~1000 B/s, got ${s.bytesPerSecond}`);
  now += 6000;
  const idle = tap.snapshot();
  assert.equal(idle.packetsPerSecond, 0);
  assert.equal(idle.packets, 40);
  tap.end();
});

test('a stream that is not pcap still passes through, the tap records the error', async () => {
  const junk = Buffer.from('tcpdump: any: That device is not up\nmore text to make it long enough\n');
  const tap = new CaptureStatsTap({ target: 'bad' });
  const out = await throughTap(tap, junk);
  assert.ok(Buffer.concat(out).equals(junk));
  assert.match(tap.snapshot().error ?? '', /does not start with a pcap magic number/);
  assert.equal(tap.snapshot().packets, 0);
});

test('parseTcpdumpStats reads the exit summary, singular and plural, last one wins', () => {
  const stderr = [
    'tcpdump: data link type LINUX_SLL2',
    'tcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes',
    '1 packet captured',
    '3 packets received by filter',
    '0 packets dropped by kernel',
    '',
    '1204 packets captured\r',
    '1300 packets received by filter',
    '17 packets dropped by kernel',
    '2 packets dropped by interface',
  ].join('\n');
  assert.deepEqual(parseTcpdumpStats(stderr), {
    captured: 1204,
    receivedByFilter: 1300,
    droppedByKernel: 17,
    droppedByInterface: 2,
  });
  assert.deepEqual(parseTcpdumpStats('1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n'), {
    captured: 1,
    receivedByFilter: 1,
    droppedByKernel: 0,
  });
  assert.deepEqual(parseTcpdumpStats('tcpdump: eth9: No such device exists\n'), {});
  assert.deepEqual(parseTcpdumpStats('foo 5 packets captured by magic\n'), {}, 'only whole lines count');
});

test('tcpdump counters map to ISB options like dumpcap', () => {
  assert.deepEqual(
    tcpdumpStatsToInterfaceStatistics({
      captured: 10,
      receivedByFilter: 12,
      droppedByKernel: 2,
      droppedByInterface: 1,
    }),
    { ifRecv: 12, ifDrop: 3, userDelivered: 10 },
  );
  assert.deepEqual(tcpdumpStatsToInterfaceStatistics({ captured: 5 }), {
    ifRecv: undefined,
    ifDrop: undefined,
    userDelivered: 5,
  });
});
