import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeClientFrame, FrameReader, Opcode, WebSocketProtocolError } from '../../../src/kube/websocket-frames.js';

/** A server frame (unmasked), as the API server writes them. */
function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, length])
      : length < 0x10000
        ? Buffer.from([(fin ? 0x80 : 0) | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 127]), bigEndian64(length)]);
  return Buffer.concat([header, payload]);
}

function bigEndian64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}

type Event =
  { kind: 'message'; payload: Buffer; pieces: number } | { kind: 'control'; opcode: number; payload: Buffer };

/** Feeds `stream` in chunks of the given sizes (cycled) and records whole messages and control frames. */
function read(stream: Buffer, chunkSizes: readonly number[]): Event[] {
  const events: Event[] = [];
  let parts: Buffer[] = [];
  const reader = new FrameReader({
    data: (piece, first) => {
      if (first) assert.equal(parts.length, 0, 'a message starts with its first part');
      parts.push(piece);
    },
    messageEnd: () => {
      events.push({ kind: 'message', payload: Buffer.concat(parts), pieces: parts.length });
      parts = [];
    },
    control: (opcode, payload) => events.push({ kind: 'control', opcode, payload }),
  });
  let at = 0;
  for (let i = 0; at < stream.length; i += 1) {
    const size = chunkSizes[i % chunkSizes.length] as number;
    reader.push(stream.subarray(at, at + size));
    at += size;
  }
  return events;
}

describe('FrameReader', () => {
  const small = Buffer.from([1, 0x68, 0x69]);
  const medium = randomBytes(32 * 1024);
  const large = randomBytes(70_000);
  const stream = Buffer.concat([
    serverFrame(Opcode.Binary, small),
    serverFrame(Opcode.Binary, medium),
    // A fragmented message with a ping between its fragments (allowed: control frames may interleave).
    serverFrame(Opcode.Binary, large.subarray(0, 1000), false),
    serverFrame(Opcode.Ping, Buffer.from('are you there')),
    serverFrame(Opcode.Continuation, large.subarray(1000), true),
    serverFrame(Opcode.Binary, Buffer.alloc(0)),
    serverFrame(Opcode.Close, Buffer.from([0x03, 0xe8, 0x6f, 0x6b])),
  ]);
  const expected = [
    { kind: 'message', payload: small },
    { kind: 'message', payload: medium },
    { kind: 'control', opcode: Opcode.Ping, payload: Buffer.from('are you there') },
    { kind: 'message', payload: large },
    { kind: 'message', payload: Buffer.alloc(0) },
    { kind: 'control', opcode: Opcode.Close, payload: Buffer.from([0x03, 0xe8, 0x6f, 0x6b]) },
  ];
  const strip = (events: Event[]) =>
    events.map((e) => (e.kind === 'message' ? { kind: e.kind, payload: e.payload } : e));

  it('parses 7-, 16- and 64-bit lengths, fragments and control frames whatever the read boundaries', () => {
    for (const sizes of [[stream.length], [1], [2, 3, 5], [13], [16 * 1024], [16 * 1024 + 7, 1]]) {
      assert.deepEqual(strip(read(stream, sizes)), expected, `reads of ${sizes.join(',')} bytes`);
    }
  });

  it('hands payload on as views of the reads, without copying', () => {
    const chunk = serverFrame(Opcode.Binary, medium);
    const views: Buffer[] = [];
    const reader = new FrameReader({
      data: (piece) => views.push(piece),
      messageEnd: () => undefined,
      control: () => undefined,
    });
    reader.push(chunk.subarray(0, 20_000));
    reader.push(chunk.subarray(20_000));
    assert.equal(views.length, 2);
    assert.equal(views[0]?.buffer, chunk.buffer, 'the first part shares the read buffer');
    assert.equal(views[1]?.buffer, chunk.buffer, 'the second part shares the read buffer');
    assert.deepEqual(Buffer.concat(views), medium);
  });

  it('refuses what a server must not send', () => {
    const cases: [string, Buffer][] = [
      ['masked', Buffer.from([0x82, 0x81, 1, 2, 3, 4, 5])],
      ['RSV bits', Buffer.from([0xc2, 0x00])],
      ['fragmented control', Buffer.from([0x09, 0x00])],
      ['long control', serverFrame(Opcode.Ping, Buffer.alloc(126))],
      ['continuation outside a message', serverFrame(Opcode.Continuation, Buffer.from('x'))],
      [
        'message inside a message',
        Buffer.concat([serverFrame(Opcode.Binary, small, false), serverFrame(Opcode.Binary, small)]),
      ],
      ['unknown opcode', Buffer.from([0x83, 0x00])],
      ['length out of range', Buffer.concat([Buffer.from([0x82, 127]), Buffer.alloc(8, 0xff)])],
    ];
    for (const [what, bytes] of cases) {
      assert.throws(() => read(bytes, [bytes.length]), WebSocketProtocolError, what);
    }
  });
});

describe('encodeClientFrame', () => {
  /** What a server does with a client frame: checks the mask bit, reads the length, unmasks. */
  function unmask(frame: Buffer): { fin: boolean; opcode: number; payload: Buffer } {
    assert.equal((frame[1] as number) & 0x80, 0x80, 'client frames are masked');
    const code = (frame[1] as number) & 0x7f;
    const [length, at] =
      code === 126 ? [frame.readUInt16BE(2), 4] : code === 127 ? [Number(frame.readBigUInt64BE(2)), 10] : [code, 2];
    const mask = frame.subarray(at, at + 4);
    const payload = Buffer.from(frame.subarray(at + 4));
    assert.equal(payload.length, length);
    for (let i = 0; i < payload.length; i += 1) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
    return { fin: ((frame[0] as number) & 0x80) !== 0, opcode: (frame[0] as number) & 0x0f, payload };
  }

  it('masks and frames parts back to back at every length class', () => {
    for (const size of [0, 1, 124, 125, 126, 65_535, 65_536, 200_000]) {
      const body = randomBytes(size);
      const decoded = unmask(encodeClientFrame(Opcode.Binary, [Uint8Array.of(0), body]));
      assert.deepEqual(decoded, { fin: true, opcode: Opcode.Binary, payload: Buffer.concat([Buffer.of(0), body]) });
    }
  });

  it('uses a fresh mask per frame', () => {
    const a = encodeClientFrame(Opcode.Binary, [Buffer.alloc(8)]);
    const b = encodeClientFrame(Opcode.Binary, [Buffer.alloc(8)]);
    assert.notDeepEqual(a.subarray(2, 6), b.subarray(2, 6));
  });
});
