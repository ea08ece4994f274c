import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  PcapFormatError,
  PcapParser,
  PcapRecordWalk,
  PcapReader,
  readPcap,
  type PcapEnd,
  type PcapHeader,
  type PcapPacket,
} from '../../../src/pcap/classic.js';
import { LinkType } from '../../../src/pcap/pcapng.js';
import { FIXTURES, chunked, classicPcap, ethernet, ipv4Udp, sll2, ts, type TestPacket } from './frames.js';

const packets: TestPacket[] = [0, 1, 2, 3, 4].map((i) => ({
  tsNanos: ts(1_700_000_000 + i, i * 123_456_789),
  data: ethernet(ipv4Udp('10.0.0.1', '10.0.0.2', 40000 + i, 53, Buffer.from(`payload-${i}`))),
}));

async function readAll(
  stream: Readable,
): Promise<{ header: PcapHeader | undefined; out: PcapPacket[]; end: PcapEnd | undefined }> {
  const reader = new PcapReader();
  let header: PcapHeader | undefined;
  let end: PcapEnd | undefined;
  reader.on('header', (h: PcapHeader) => (header = h));
  reader.on('pcapEnd', (e: PcapEnd) => (end = e));
  stream.pipe(reader);
  const out: PcapPacket[] = [];
  for await (const p of reader) out.push(p as PcapPacket);
  return { header, out, end };
}

for (const bigEndian of [false, true]) {
  for (const nanos of [false, true]) {
    test(`reader round-trips byte-exact (${bigEndian ? 'big' : 'little'}-endian, ${nanos ? 'ns' : 'us'})`, async () => {
      // microsecond files cannot hold the sub-microsecond digits
      const input = packets.map((p) => ({ ...p, tsNanos: nanos ? p.tsNanos : (p.tsNanos / 1000n) * 1000n }));
      const file = classicPcap({ bigEndian, nanos, linkType: LinkType.ETHERNET, snaplen: 65535 }, input);
      const { header, out, end } = await readAll(chunked(file));
      assert.deepEqual(header, {
        linkType: 1,
        snaplen: 65535,
        nanos,
        bigEndian,
        versionMajor: 2,
        versionMinor: 4,
      });
      assert.equal(out.length, 5);
      out.forEach((p, i) => {
        assert.equal(p.tsNanos, input[i]!.tsNanos);
        assert.equal(p.capLen, input[i]!.data.length);
        assert.equal(p.origLen, input[i]!.data.length);
        assert.ok(p.data.equals(input[i]!.data));
      });
      assert.deepEqual(end, { truncatedBytes: 0, headerMissing: false });
      const rewritten = classicPcap(
        { bigEndian, nanos, linkType: header!.linkType, snaplen: header!.snaplen },
        out.map((p) => ({ tsNanos: p.tsNanos, data: p.data, origLen: p.origLen })),
      );
      assert.ok(rewritten.equals(file), 're-encoding what was read gives the same bytes');
    });
  }
}

test('reader keeps origLen when capLen is shorter (snaplen cut)', async () => {
  const full = ethernet(ipv4Udp('10.0.0.1', '10.0.0.2', 1, 2, Buffer.alloc(200, 1)));
  const file = classicPcap({ linkType: 1, snaplen: 64 }, [
    { tsNanos: ts(1), data: full.subarray(0, 64), origLen: full.length },
  ]);
  const { out } = await readAll(chunked(file, [1]));
  assert.equal(out[0]!.capLen, 64);
  assert.equal(out[0]!.origLen, full.length);
});

test('a truncated final record is dropped and reported, earlier packets survive', async () => {
  const file = classicPcap(
    { linkType: 276, nanos: true },
    packets.map((p) => ({ ...p, data: sll2(p.data) })),
  );
  const cut = file.subarray(0, file.length - 10);
  const { out, end, header } = await readAll(chunked(cut));
  assert.equal(header?.linkType, 276);
  assert.equal(out.length, 4);
  assert.equal(end?.truncatedBytes, 16 + sll2(packets[4]!.data).length - 10);
  assert.equal(end?.headerMissing, false);
});

test('input shorter than the global header reports headerMissing', async () => {
  const file = classicPcap({ linkType: 1 }, []);
  const { out, end, header } = await readAll(Readable.from([file.subarray(0, 10)]));
  assert.equal(header, undefined);
  assert.equal(out.length, 0);
  assert.deepEqual(end, { truncatedBytes: 10, headerMissing: true });
});

test('empty input ends cleanly', async () => {
  const { out, end } = await readAll(Readable.from([]));
  assert.equal(out.length, 0);
  assert.deepEqual(end, { truncatedBytes: 0, headerMissing: true });
});

test('text on stdout instead of pcap is a PcapFormatError', async () => {
  await assert.rejects(readAll(Readable.from([Buffer.from("tcpdump: any: You don't have permission\n")])), (err) => {
    assert.ok(err instanceof PcapFormatError);
    assert.equal(err.exitCode, 3);
    return true;
  });
});

test('pcapng input is recognised and named in the error', () => {
  const p = new PcapParser();
  p.push(Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'));
  assert.throws(() => p.next(), /pcapng/);
});

test('a corrupt record length is rejected instead of buffering forever', () => {
  const file = classicPcap({ linkType: 1, snaplen: 1500 }, [{ tsNanos: ts(1), data: Buffer.alloc(10) }]);
  file.writeUInt32LE(0x7fffffff, 24 + 8);
  const p = new PcapParser();
  p.push(file);
  assert.equal(p.next()?.kind, 'header');
  assert.throws(() => p.next(), PcapFormatError);
});

test('parser is lazy: bytes stay unparsed until next() is called', () => {
  const file = classicPcap({ linkType: 1 }, packets);
  const p = new PcapParser();
  p.push(file);
  assert.equal(p.pendingBytes, file.length);
  assert.equal(p.next()?.kind, 'header');
  assert.equal(p.next()?.kind, 'packet');
  assert.equal(p.pendingBytes, file.length - 24 - 16 - packets[0]!.data.length);
});

test('readPcap iterates packets of real tcpdump captures (Ethernet us, SLL2 ns, SLL us)', async () => {
  const expected: [string, number, boolean][] = [
    ['lo-ethernet-us.pcap', 1, false],
    ['any-sll2-ns.pcap', 276, true],
    ['any-sll-us.pcap', 113, false],
  ];
  for (const [name, linkType, nanos] of expected) {
    const bytes = readFileSync(join(FIXTURES, name));
    const contents = readPcap(chunked(bytes, [5, 17, 64]));
    const got: PcapPacket[] = [];
    for await (const p of contents.packets) got.push(p);
    assert.equal(contents.header?.linkType, linkType, name);
    assert.equal(contents.header?.nanos, nanos, name);
    assert.equal(got.length, 6, name);
    for (let i = 1; i < got.length; i++) assert.ok(got[i]!.tsNanos >= got[i - 1]!.tsNanos, `${name} in time order`);
    const text = got.map((p) => p.data.toString('latin1')).join('|');
    assert.match(text, new RegExp(`netdiag ${name} 1\\n`));
    assert.deepEqual(contents.ending, { truncatedBytes: 0, headerMissing: false });
  }
});

test('a large record in 1-byte chunks parses in linear time', { timeout: 5000 }, () => {
  const big = Buffer.alloc(200_000, 7);
  const file = classicPcap({ linkType: 1 }, [{ tsNanos: ts(3), data: big }]);
  const p = new PcapParser();
  const started = process.hrtime.bigint();
  let packet: PcapPacket | undefined;
  p.push(file.subarray(0, 24));
  assert.equal(p.next()?.kind, 'header');
  for (let i = 24; i < file.length; i++) {
    p.push(file.subarray(i, i + 1));
    const item = p.next(); // a consumer that polls after every chunk, as the merger does
    if (item?.kind === 'packet') packet = item.packet;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(packet?.data.equals(big));
  assert.equal(p.pendingBytes, 0);
  assert.ok(ms < 2000, `took ${ms} ms`);
});

/** Feeds `bytes` to a PcapRecordWalk in chunks of `size` and returns what it reported. */
function walkAll(bytes: Buffer, size: number): { linkType?: number; records: [number, number][] } {
  const seen: { linkType?: number; records: [number, number][] } = { records: [] };
  const walk = new PcapRecordWalk(
    (header) => (seen.linkType = header.linkType),
    (origLen, capLen) => seen.records.push([origLen, capLen]),
  );
  for (let off = 0; off < bytes.length; off += size) walk.push(bytes.subarray(off, off + size));
  return seen;
}

test('PcapRecordWalk reports every whole record at any chunking, both byte orders and precisions', () => {
  const packets = [
    { tsNanos: ts(1, 5), data: Buffer.alloc(60, 1) },
    { tsNanos: ts(2, 6), data: Buffer.alloc(0) },
    { tsNanos: ts(3, 7), data: Buffer.alloc(1500, 2), origLen: 9000 },
    { tsNanos: ts(4, 8), data: Buffer.alloc(17, 3) },
  ];
  for (const bigEndian of [false, true]) {
    for (const nanos of [false, true]) {
      const bytes = classicPcap({ bigEndian, nanos, linkType: 276 }, packets);
      for (const size of [1, 3, 16, 24, 25, 100, bytes.length]) {
        const seen = walkAll(bytes, size);
        const where = `bigEndian=${bigEndian} nanos=${nanos} chunks of ${size}`;
        assert.equal(seen.linkType, 276, where);
        assert.deepEqual(
          seen.records,
          [
            [60, 60],
            [0, 0],
            [9000, 1500],
            [17, 17],
          ],
          where,
        );
      }
    }
  }
});

test('PcapRecordWalk does not report a record until its last byte, nor a truncated one', () => {
  const bytes = classicPcap({ linkType: 1 }, [{ tsNanos: ts(1), data: Buffer.alloc(100) }]);
  assert.deepEqual(walkAll(bytes.subarray(0, bytes.length - 1), 7).records, []);
  assert.deepEqual(walkAll(bytes, 7).records, [[100, 100]]);
});

test('PcapRecordWalk rejects text and impossible record lengths', () => {
  const text = new PcapRecordWalk(
    () => undefined,
    () => undefined,
  );
  assert.throws(() => text.push(Buffer.from('tcpdump: any: That device is not up\n')), PcapFormatError);
  const corrupt = classicPcap({ linkType: 1, snaplen: 65535 }, [{ tsNanos: ts(1), data: Buffer.alloc(4) }]);
  corrupt.writeUInt32LE(1 << 30, 24 + 8);
  const walk = new PcapRecordWalk(
    () => undefined,
    () => undefined,
  );
  assert.throws(() => walk.push(corrupt), /captured length 1073741824 exceeds 262144/);
});
