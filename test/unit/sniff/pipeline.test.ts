import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { ChunkLimit, PcapRecordAligner } from '../../../src/sniff/pipeline.js';

function pcapHeader(): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(262144, 16);
  b.writeUInt32LE(276, 20); // LINUX_SLL2
  return b;
}
function record(seconds: number, payload: number): Buffer {
  const b = Buffer.alloc(16 + payload, seconds & 0xff);
  b.writeUInt32LE(seconds, 0);
  b.writeUInt32LE(0, 4);
  b.writeUInt32LE(payload, 8);
  b.writeUInt32LE(payload, 12);
  return b;
}
async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
/** Splits bytes into awkward chunk sizes, as exec frames arrive. */
function chunked(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  let i = 0;
  while (offset < bytes.length) {
    const size = sizes[i++ % sizes.length]!;
    out.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}

describe('PcapRecordAligner', () => {
  const whole = Buffer.concat([pcapHeader(), record(1, 60), record(2, 1500), record(3, 0), record(4, 98)]);

  it('passes a stream through byte for byte whatever the chunking', async () => {
    for (const sizes of [[1], [7, 13], [24], [100000], [3, 1, 4, 1, 5, 9, 2, 6]]) {
      const aligner = new PcapRecordAligner();
      const out = await collect(Readable.from(chunked(whole, sizes)).pipe(aligner));
      assert.ok(out.equals(whole), `chunk sizes ${sizes}`);
    }
  });

  it('drops a record cut short at the end so the file stays valid', async () => {
    const cut = whole.subarray(0, whole.length - 10);
    const aligner = new PcapRecordAligner();
    const out = await collect(Readable.from(chunked(cut, [500])).pipe(aligner));
    assert.ok(out.equals(whole.subarray(0, 24 + 76 + 1516 + 16)));
    assert.equal(aligner.droppedTailBytes, 16 + 98 - 10);
  });

  it('stops before the record that would pass --max-size and says so once', async () => {
    const aligner = new PcapRecordAligner({ maxBytes: 24 + 76 + 1516 + 10 });
    let limits = 0;
    aligner.on('limit', () => limits++);
    const out = await collect(Readable.from(chunked(whole, [33])).pipe(aligner));
    assert.equal(out.length, 24 + 76 + 1516);
    assert.equal(aligner.bytesWritten, out.length);
    assert.equal(limits, 1);
  });

  it('rejects what is not classic pcap', async () => {
    const aligner = new PcapRecordAligner();
    await assert.rejects(
      collect(Readable.from([Buffer.from('0a0d0d0a000000000000000000000000000000000000000000', 'hex')]).pipe(aligner)),
      /pcapng, not classic pcap/,
    );
  });
});

describe('ChunkLimit', () => {
  it('keeps whole chunks up to the limit', async () => {
    const limit = new ChunkLimit(25);
    let limited = false;
    limit.on('limit', () => (limited = true));
    const out = await collect(
      Readable.from([Buffer.alloc(10), Buffer.alloc(10), Buffer.alloc(10), Buffer.alloc(1)]).pipe(limit),
    );
    assert.equal(out.length, 20);
    assert.ok(limited);
  });
});
