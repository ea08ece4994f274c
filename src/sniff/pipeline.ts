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
  private carry: Buffer = Buffer.alloc(0);
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

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.limited) {
      done();
      return;
    }
    const data = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    let offset = 0;
    try {
      for (;;) {
        const unit = this.nextUnitLength(data, offset);
        if (unit === undefined || offset + unit > data.length) break;
        if (this.written + unit > this.maxBytes) {
          this.limited = true;
          break;
        }
        offset += unit;
        this.written += unit;
      }
    } catch (err) {
      done(err as Error);
      return;
    }
    if (offset > 0) this.push(data.subarray(0, offset));
    this.carry = this.limited ? Buffer.alloc(0) : Buffer.from(data.subarray(offset));
    if (this.limited) this.emit('limit');
    done();
  }

  override _flush(done: TransformCallback): void {
    this.droppedTailBytes = this.carry.length;
    this.carry = Buffer.alloc(0);
    done();
  }

  /** Length of the next whole unit (global header or record) at `offset`, or undefined if not yet known. */
  private nextUnitLength(data: Buffer, offset: number): number | undefined {
    const available = data.length - offset;
    if (this.bigEndian === undefined) {
      if (available < PCAP_GLOBAL_HEADER_LENGTH) return undefined;
      this.bigEndian = parsePcapHeader(data.subarray(offset, offset + PCAP_GLOBAL_HEADER_LENGTH)).bigEndian;
      return PCAP_GLOBAL_HEADER_LENGTH;
    }
    if (available < PCAP_RECORD_HEADER_LENGTH) return undefined;
    const capLen = this.bigEndian ? data.readUInt32BE(offset + 8) : data.readUInt32LE(offset + 8);
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
