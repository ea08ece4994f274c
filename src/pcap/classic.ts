/**
 * Streaming reader for classic libpcap files (the format `tcpdump -w -` writes).
 *
 * Handles both byte orders, microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magic and any link type. A
 * truncated final record (tcpdump killed mid-write, Ctrl-C) is dropped and reported, never an error.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ExitCode, NetdiagError } from '../lib/errors.js';

/** Global header of a classic pcap stream. */
export interface PcapHeader {
  /** LINKTYPE_* value (low 16 bits of the header's link-type field; FCS flag bits are dropped). */
  linkType: number;
  snaplen: number;
  /** True when timestamps carry nanoseconds (magic 0xa1b23c4d), false for microseconds. */
  nanos: boolean;
  /** True when the file was written big-endian. */
  bigEndian: boolean;
  versionMajor: number;
  versionMinor: number;
}

/** One packet record. `data` is a view into the received bytes: copy it if you keep it long. */
export interface PcapPacket {
  /** Capture time in nanoseconds since the Unix epoch (microsecond files are scaled by 1000). */
  tsNanos: bigint;
  capLen: number;
  origLen: number;
  data: Buffer;
}

/** How the input ended. */
export interface PcapEnd {
  /** Bytes of a record (or of the global header) that were cut short at the end of input and dropped. */
  truncatedBytes: number;
  /** True when not even the 24-byte global header arrived (tcpdump failed before writing anything). */
  headerMissing: boolean;
}

/** The stream is not classic pcap or is corrupt. A cluster/environment problem (exit 3), not a bug. */
export class PcapFormatError extends NetdiagError {
  constructor(cause: string) {
    super(
      ExitCode.Environment,
      cause,
      'check that the remote command is `tcpdump -w -` and that nothing else writes to its stdout',
    );
    this.name = 'PcapFormatError';
  }
}

export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
export const PCAP_GLOBAL_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
/**
 * Largest record accepted when the header's snaplen is smaller: 256 KiB is libpcap's MAXIMUM_SNAPLEN for almost
 * all link types. A larger capLen means a corrupt stream; refusing it keeps memory bounded.
 */
export const PCAP_MAX_RECORD = 262_144;

/** Parses the 24-byte global header; throws PcapFormatError on an unknown magic. */
export function parsePcapHeader(bytes: Buffer): PcapHeader {
  if (bytes.length < PCAP_GLOBAL_HEADER_LENGTH) {
    throw new PcapFormatError(`pcap global header needs 24 bytes, got ${bytes.length}`);
  }
  const le = bytes.readUInt32LE(0);
  const be = bytes.readUInt32BE(0);
  let bigEndian: boolean;
  let nanos: boolean;
  if (le === PCAP_MAGIC_MICROS || le === PCAP_MAGIC_NANOS) {
    bigEndian = false;
    nanos = le === PCAP_MAGIC_NANOS;
  } else if (be === PCAP_MAGIC_MICROS || be === PCAP_MAGIC_NANOS) {
    bigEndian = true;
    nanos = be === PCAP_MAGIC_NANOS;
  } else {
    const shown = bytes.subarray(0, 4).toString('hex');
    const hint = shown === '0a0d0d0a' ? ' (this is pcapng, not classic pcap)' : '';
    throw new PcapFormatError(`capture stream does not start with a pcap magic number: 0x${shown}${hint}`);
  }
  const u16 = (o: number): number => (bigEndian ? bytes.readUInt16BE(o) : bytes.readUInt16LE(o));
  const u32 = (o: number): number => (bigEndian ? bytes.readUInt32BE(o) : bytes.readUInt32LE(o));
  return {
    versionMajor: u16(4),
    versionMinor: u16(6),
    snaplen: u32(16),
    linkType: u32(20) & 0xffff,
    nanos,
    bigEndian,
  };
}

/**
 * Follows the record boundaries of a classic pcap stream as its chunks go by and reports each record's lengths,
 * without keeping or copying packet data: only a header that spans two chunks is copied (into one fixed 24-byte
 * buffer). This is what live counting needs at tens of thousands of packets a second; a parser that joins every
 * chunk to the previous one's remainder doubles the bytes the process allocates (see docs/sniff.md).
 */
export class PcapRecordWalk {
  private readonly split = Buffer.alloc(PCAP_GLOBAL_HEADER_LENGTH);
  private splitLength = 0;
  private header: PcapHeader | undefined;
  private maxRecord = PCAP_MAX_RECORD;
  /** Data bytes of the current record still to pass, and its lengths (reported once the record is whole). */
  private remaining = 0;
  private pending: { origLen: number; capLen: number } | undefined;

  constructor(
    private readonly onHeader: (header: PcapHeader) => void,
    private readonly onRecord: (origLen: number, capLen: number) => void,
  ) {}

  /** Throws PcapFormatError on an unknown magic or an impossible record length; stop pushing after that. */
  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length || (this.pending && this.remaining === 0)) {
      if (this.pending) {
        const take = Math.min(this.remaining, chunk.length - pos);
        this.remaining -= take;
        pos += take;
        if (this.remaining > 0) return;
        const { origLen, capLen } = this.pending;
        this.pending = undefined;
        this.onRecord(origLen, capLen);
        continue;
      }
      const need = this.header === undefined ? PCAP_GLOBAL_HEADER_LENGTH : PCAP_RECORD_HEADER_LENGTH;
      let bytes: Buffer;
      if (this.splitLength === 0 && chunk.length - pos >= need) {
        bytes = chunk.subarray(pos, pos + need);
        pos += need;
      } else {
        const take = Math.min(need - this.splitLength, chunk.length - pos);
        chunk.copy(this.split, this.splitLength, pos, pos + take);
        this.splitLength += take;
        pos += take;
        if (this.splitLength < need) return;
        bytes = this.split.subarray(0, need);
        this.splitLength = 0;
      }
      if (this.header === undefined) {
        this.header = parsePcapHeader(bytes);
        this.maxRecord = Math.max(this.header.snaplen, PCAP_MAX_RECORD);
        this.onHeader(this.header);
        continue;
      }
      const be = this.header.bigEndian;
      const capLen = be ? bytes.readUInt32BE(8) : bytes.readUInt32LE(8);
      const origLen = be ? bytes.readUInt32BE(12) : bytes.readUInt32LE(12);
      if (capLen > this.maxRecord) {
        throw new PcapFormatError(`corrupt pcap record: captured length ${capLen} exceeds ${this.maxRecord}`);
      }
      this.remaining = capLen;
      this.pending = { origLen, capLen };
    }
  }
}

/** What {@link PcapParser.next} returns. */
export type PcapItem = { kind: 'header'; header: PcapHeader } | { kind: 'packet'; packet: PcapPacket };

/**
 * Incremental, pull-based classic pcap parser: `push()` bytes as they arrive, `next()` whole items out. Parsing is
 * lazy, so a consumer that stops calling `next()` holds only the unparsed bytes it was given (this is what lets the
 * merger cap its buffered packets exactly).
 */
export class PcapParser {
  /** Unparsed input, in arrival order; `off` is the read position in chunks[0]. Joined only when a record spans
   * chunks, and then only the chunks it needs, so tiny chunks never make parsing quadratic. */
  private chunks: Buffer[] = [];
  private off = 0;
  private avail = 0;
  private hdr: PcapHeader | undefined;
  private maxRecord = PCAP_MAX_RECORD;

  /** The global header once parsed. */
  get header(): PcapHeader | undefined {
    return this.hdr;
  }

  /** Bytes received but not yet returned as items. */
  get pendingBytes(): number {
    return this.avail;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.avail += chunk.length;
  }

  /** The next complete item, or undefined when more bytes are needed. Throws PcapFormatError on corrupt input. */
  next(): PcapItem | undefined {
    if (this.hdr === undefined) {
      const bytes = this.peek(PCAP_GLOBAL_HEADER_LENGTH);
      if (bytes === undefined) return undefined;
      const header = parsePcapHeader(bytes);
      this.consume(PCAP_GLOBAL_HEADER_LENGTH);
      this.hdr = header;
      this.maxRecord = Math.max(header.snaplen, PCAP_MAX_RECORD);
      return { kind: 'header', header };
    }
    const head = this.peek(PCAP_RECORD_HEADER_LENGTH);
    if (head === undefined) return undefined;
    const be = this.hdr.bigEndian;
    const sec = be ? head.readUInt32BE(0) : head.readUInt32LE(0);
    const frac = be ? head.readUInt32BE(4) : head.readUInt32LE(4);
    const capLen = be ? head.readUInt32BE(8) : head.readUInt32LE(8);
    const origLen = be ? head.readUInt32BE(12) : head.readUInt32LE(12);
    if (capLen > this.maxRecord) {
      throw new PcapFormatError(`corrupt pcap record: captured length ${capLen} exceeds ${this.maxRecord}`);
    }
    const record = this.peek(PCAP_RECORD_HEADER_LENGTH + capLen);
    if (record === undefined) return undefined;
    const data = record.subarray(PCAP_RECORD_HEADER_LENGTH);
    this.consume(PCAP_RECORD_HEADER_LENGTH + capLen);
    const tsNanos = BigInt(sec) * 1_000_000_000n + BigInt(this.hdr.nanos ? frac : frac * 1000);
    return { kind: 'packet', packet: { tsNanos, capLen, origLen, data } };
  }

  /** The first `n` unparsed bytes as one Buffer (a view when they sit in one chunk), or undefined if fewer. */
  private peek(n: number): Buffer | undefined {
    if (this.avail < n) return undefined;
    const first = this.chunks[0]!;
    if (first.length - this.off >= n) return first.subarray(this.off, this.off + n);
    let count = 1;
    for (let have = first.length - this.off; have < n; count++) have += this.chunks[count]!.length;
    const joined = Buffer.concat([first.subarray(this.off), ...this.chunks.slice(1, count)]);
    this.chunks.splice(0, count, joined);
    this.off = 0;
    return joined.subarray(0, n);
  }

  private consume(n: number): void {
    this.avail -= n;
    this.off += n;
    while (this.chunks.length > 0 && this.off >= this.chunks[0]!.length) {
      this.off -= this.chunks[0]!.length;
      this.chunks.shift();
    }
  }

  /** Call after the last push and after draining `next()`: reports what was cut short. */
  end(): PcapEnd {
    const end = { truncatedBytes: this.pendingBytes, headerMissing: this.hdr === undefined };
    this.chunks = [];
    this.off = 0;
    this.avail = 0;
    return end;
  }
}

/**
 * Transform: classic pcap bytes in, {@link PcapPacket} objects out (object mode). Emits `'header'`
 * ({@link PcapHeader}) before the first packet and `'pcapEnd'` ({@link PcapEnd}) before `'end'`.
 * Backpressure flows through as with any Transform (`readableHighWaterMark` counts packets).
 */
export class PcapReader extends Transform {
  private readonly parser = new PcapParser();
  /** The global header once seen. */
  header: PcapHeader | undefined;
  /** Set when the input has ended. */
  ending: PcapEnd | undefined;

  constructor(options: { packetHighWaterMark?: number } = {}) {
    super({ readableObjectMode: true, readableHighWaterMark: options.packetHighWaterMark ?? 64 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.parser.push(chunk);
      this.drainParser();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    this.ending = this.parser.end();
    this.emit('pcapEnd', this.ending);
    done();
  }

  private drainParser(): void {
    for (let item = this.parser.next(); item !== undefined; item = this.parser.next()) {
      if (item.kind === 'header') {
        this.header = item.header;
        this.emit('header', item.header);
      } else {
        this.push(item.packet);
      }
    }
  }
}

/** Everything a classic pcap stream holds, as an async iterable; `header` is set before the first packet yields. */
export interface PcapStreamContents {
  header: PcapHeader | undefined;
  ending: PcapEnd | undefined;
  packets: AsyncIterable<PcapPacket>;
}

/** Reads a classic pcap Readable as an async iterable of packets (backpressure via the iterator). */
export function readPcap(source: Readable): PcapStreamContents {
  const reader = new PcapReader();
  const contents: PcapStreamContents = {
    header: undefined,
    ending: undefined,
    packets: iterate(),
  };
  reader.on('header', (h: PcapHeader) => (contents.header = h));
  reader.on('pcapEnd', (e: PcapEnd) => (contents.ending = e));
  source.on('error', (err) => reader.destroy(err));
  source.pipe(reader);
  async function* iterate(): AsyncGenerator<PcapPacket> {
    for await (const packet of reader) yield packet as PcapPacket;
  }
  return contents;
}
