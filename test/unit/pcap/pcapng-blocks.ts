/** Test helper: an independent, strict little-endian pcapng block reader used to check what the writer produced. */
import assert from 'node:assert/strict';

export interface Block {
  type: number;
  body: Buffer;
}

export function blocks(file: Buffer): Block[] {
  const out: Block[] = [];
  let off = 0;
  while (off < file.length) {
    assert.ok(file.length - off >= 12, `block header at ${off}`);
    const type = file.readUInt32LE(off);
    const len = file.readUInt32LE(off + 4);
    assert.equal(len % 4, 0, `block at ${off} length ${len} is 32-bit aligned`);
    assert.ok(off + len <= file.length, `block at ${off} fits`);
    assert.equal(file.readUInt32LE(off + len - 4), len, `trailing length of block at ${off}`);
    out.push({ type, body: file.subarray(off + 8, off + len - 4) });
    off += len;
  }
  return out;
}

/** Options as [code, value] until opt_endofopt; asserts padding and the end marker. */
export function options(buf: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  let off = 0;
  for (;;) {
    const code = buf.readUInt16LE(off);
    const len = buf.readUInt16LE(off + 2);
    if (code === 0) {
      assert.equal(len, 0);
      assert.equal(off + 4, buf.length, 'opt_endofopt ends the options');
      return out;
    }
    out.push([code, buf.subarray(off + 4, off + 4 + len)]);
    off += 4 + len + ((4 - (len % 4)) % 4);
  }
}

export const optionText = (opts: [number, Buffer][], code: number): string | undefined =>
  opts.find(([c]) => c === code)?.[1].toString('utf8');

export interface Epb {
  interfaceId: number;
  tsUnits: bigint;
  capLen: number;
  origLen: number;
  data: Buffer;
}

export function epb(body: Buffer): Epb {
  const capLen = body.readUInt32LE(12);
  return {
    interfaceId: body.readUInt32LE(0),
    tsUnits: (BigInt(body.readUInt32LE(4)) << 32n) | BigInt(body.readUInt32LE(8)),
    capLen,
    origLen: body.readUInt32LE(16),
    data: body.subarray(20, 20 + capLen),
  };
}

/** NRB records as [type, address bytes, names]. */
export function nrbRecords(body: Buffer): [number, Buffer, string[]][] {
  const out: [number, Buffer, string[]][] = [];
  let off = 0;
  for (;;) {
    const type = body.readUInt16LE(off);
    const len = body.readUInt16LE(off + 2);
    if (type === 0) return out;
    const value = body.subarray(off + 4, off + 4 + len);
    const addrLen = type === 1 ? 4 : 16;
    const names = value
      .subarray(addrLen)
      .toString('utf8')
      .split('\u0000')
      .filter((n) => n !== '');
    out.push([type, value.subarray(0, addrLen), names]);
    off += 4 + len + ((4 - (len % 4)) % 4);
  }
}
