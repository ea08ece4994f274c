/**
 * Stream stages between the remote captures and the output. All are Transforms, so backpressure from the output
 * (a slow disk, a pipe to Wireshark) reaches the exec sockets.
 */
import { Transform, type TransformCallback } from 'node:stream';
import {
  parsePcapHeader,
  PCAP_GLOBAL_HEADER_LENGTH,
  PCAP_MAX_RECORD,
  PCAP_RECORD_HEADER_LENGTH,
} from '../pcap/classic.js';

/**
 * Passes a classic pcap stream through byte for byte, but only in whole records: a record cut short when the
 * capture is torn down (pod deleted, connection lost) is dropped, so the file always ends on a record boundary and
 * stays valid. With `maxBytes`, the first record that would take the output past it is not written and 'limit'
 * is emitted (once); everything after it is dropped.
 */
export class PcapRecordAligner extends Transform {
  /** Views of the unit (global header or record) that has begun but not ended: held back until it is whole. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** Length of the current unit once its header has been read. */
  private unitLength: number | undefined;
  private bigEndian: boolean | undefined;
  private written = 0;
  private limited = false;
  private readonly maxBytes: number;
  /** Bytes of an incomplete final record dropped at the end. */
  droppedTailBytes = 0;

  constructor(options: { maxBytes?: number } = {}) {
    super();
    this.maxBytes = options.maxBytes ?? Infinity;
  }

  get bytesWritten(): number {
    return this.written;
  }

  // Zero-copy: whole units go out as views of the input chunks; only a header split across chunks is copied
  // (at most 24 bytes). At tens of thousands of packets a second this keeps the garbage collector idle.
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.limited) {
      done();
      return;
    }
    let pos = 0;
    try {
      while (pos < chunk.length) {
        if (this.unitLength === undefined) {
          const headerLength = this.bigEndian === undefined ? PCAP_GLOBAL_HEADER_LENGTH : PCAP_RECORD_HEADER_LENGTH;
          if (this.partsLength + chunk.length - pos < headerLength) break;
          this.unitLength = this.unitLengthOf(this.peek(headerLength, chunk, pos));
        }
        const rest = this.unitLength - this.partsLength;
        if (chunk.length - pos < rest) break;
        if (this.written + this.unitLength > this.maxBytes) {
          this.limited = true;
          break;
        }
        if (this.partsLength > 0) {
          // The held-back beginning precedes everything of this chunk: out it goes first.
          for (const part of this.parts) this.push(part);
          this.parts = [];
          this.partsLength = 0;
        }
        pos += rest;
        this.written += this.unitLength;
        this.unitLength = undefined;
      }
    } catch (err) {
      done(err as Error);
      return;
    }
    // `pos` only moves when a unit is complete: [0, pos) of this chunk is whole units.
    if (pos > 0) this.push(chunk.subarray(0, pos));
    if (this.limited) {
      this.parts = [];
      this.partsLength = 0;
      this.emit('limit');
    } else if (pos < chunk.length) {
      this.parts.push(chunk.subarray(pos));
      this.partsLength += chunk.length - pos;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.droppedTailBytes = this.partsLength;
    this.parts = [];
    this.partsLength = 0;
    done();
  }

  /** The first `length` bytes of the current unit: held-back parts first, then the chunk from `pos`. */
  private peek(length: number, chunk: Buffer, pos: number): Buffer {
    if (this.partsLength === 0) return chunk.subarray(pos, pos + length);
    return Buffer.concat([...this.parts, chunk.subarray(pos, pos + length)]).subarray(0, length);
  }

  private unitLengthOf(header: Buffer): number {
    if (this.bigEndian === undefined) {
      this.bigEndian = parsePcapHeader(header).bigEndian;
      return PCAP_GLOBAL_HEADER_LENGTH;
    }
    const capLen = this.bigEndian ? header.readUInt32BE(8) : header.readUInt32LE(8);
    if (capLen > PCAP_MAX_RECORD) throw new Error(`corrupt pcap record: captured length ${capLen}`);
    return PCAP_RECORD_HEADER_LENGTH + capLen;
  }
}

/**
 * Caps a stream of whole blocks (the pcapng merger pushes one block per chunk) at `maxBytes`: the first chunk that
 * would go past it is dropped with everything after it, and 'limit' is emitted once.
 */
export class ChunkLimit extends Transform {
  private written = 0;
  private limited = false;
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    super();
    this.maxBytes = maxBytes;
  }

  get bytesWritten(): number {
    return this.written;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.limited && this.written + chunk.length > this.maxBytes) {
      this.limited = true;
      this.emit('limit');
    }
    if (!this.limited) {
      this.written += chunk.length;
      this.push(chunk);
    }
    done();
  }
}
