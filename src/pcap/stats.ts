/**
 * Live capture statistics (a byte-preserving tap parsed with pcap-parser) and tcpdump's end-of-capture counters.
 */
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import pcapParser from 'pcap-parser';
import type { InterfaceStatistics } from './pcapng.js';

/** Counters of one capture target at one moment. */
export interface CaptureStats {
  target: string;
  /** LINKTYPE_* from the pcap header, once seen. */
  linkType: number | undefined;
  packets: number;
  /** Bytes on the wire (sum of origLen). */
  bytes: number;
  /** Bytes of packet data actually captured (sum of capLen; smaller than `bytes` with a snaplen). */
  capturedBytes: number;
  /** Raw bytes of the pcap stream that went through the tap. */
  streamBytes: number;
  /** Rates over the last `windowMs` (0 when nothing arrived in that window). */
  packetsPerSecond: number;
  bytesPerSecond: number;
  /** Local clock (ms) of the last packet. */
  lastPacketAt: number | undefined;
  /** Set when the stream stopped being parseable; the bytes still pass through untouched. */
  error: string | undefined;
}

interface Sample {
  at: number;
  packets: number;
  bytes: number;
}

const MAGIC_NANOS_LE = Buffer.from([0x4d, 0x3c, 0xb2, 0xa1]);
const MAGIC_NANOS_BE = Buffer.from([0xa1, 0xb2, 0x3c, 0x4d]);
const MAGIC_MICROS_LE = Buffer.from([0xd4, 0xc3, 0xb2, 0xa1]);
const MAGIC_MICROS_BE = Buffer.from([0xa1, 0xb2, 0xc3, 0xd4]);

/**
 * A Transform that passes every chunk through unchanged (same Buffer objects, same order) and counts packets with
 * pcap-parser on a side copy. pcap-parser only knows the microsecond magic; for nanosecond captures the side copy's
 * magic is rewritten to the microsecond one, which is harmless because rates use the local clock, not packet
 * timestamps. Emits 'first-packet' once, when the first packet has been counted.
 */
export class CaptureStatsTap extends Transform {
  readonly target: string;
  private readonly feed = new PassThrough();
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly samples: Sample[] = [];
  private magic: Buffer[] = [];
  private magicBytes = 0;
  private feeding = true;
  private counters = { packets: 0, bytes: 0, capturedBytes: 0, streamBytes: 0 };
  private linkType: number | undefined;
  private lastPacketAt: number | undefined;
  private error: string | undefined;

  constructor(options: { target: string; windowMs?: number; now?: () => number }) {
    super();
    this.target = options.target;
    this.now = options.now ?? Date.now;
    this.windowMs = options.windowMs ?? 5000;
    const parser = pcapParser.parse(this.feed);
    parser.on('globalHeader', (h) => (this.linkType = h.linkLayerType & 0xffff));
    parser.on('packet', (p) => this.count(p.header.originalLength, p.header.capturedLength));
    parser.on('error', (err) => {
      this.error = err.message;
      this.stopFeeding();
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.counters.streamBytes += chunk.length;
    this.push(chunk);
    if (this.feeding) this.toParser(chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.magic.length > 0 && this.feeding) this.feed.write(Buffer.concat(this.magic));
    this.stopFeeding();
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.stopFeeding();
    done(err);
  }

  /** Counters now, with rates over the last window. */
  snapshot(): CaptureStats {
    const now = this.now();
    this.trim(now);
    const base = this.samples[0];
    let packetsPerSecond = 0;
    let bytesPerSecond = 0;
    if (base !== undefined && now > base.at) {
      const seconds = (now - base.at) / 1000;
      packetsPerSecond = (this.counters.packets - base.packets) / seconds;
      bytesPerSecond = (this.counters.bytes - base.bytes) / seconds;
    }
    return {
      target: this.target,
      linkType: this.linkType,
      ...this.counters,
      packetsPerSecond,
      bytesPerSecond,
      lastPacketAt: this.lastPacketAt,
      error: this.error,
    };
  }

  private count(origLen: number, capLen: number): void {
    const now = this.now();
    const last = this.samples[this.samples.length - 1];
    if (last === undefined || now - last.at >= 250) {
      this.samples.push({ at: now, packets: this.counters.packets, bytes: this.counters.bytes });
    }
    this.counters.packets++;
    if (this.counters.packets === 1) this.emit('first-packet');
    this.counters.bytes += origLen;
    this.counters.capturedBytes += capLen;
    this.lastPacketAt = now;
    this.trim(now);
  }

  /** Samples are taken at most every 250 ms, before counting; only those inside the window matter. */
  private trim(now: number): void {
    while (this.samples.length > 0 && this.samples[0]!.at < now - this.windowMs) this.samples.shift();
  }

  /** Feeds the side copy, rewriting a nanosecond magic (possibly split over chunks) to the microsecond one. */
  private toParser(chunk: Buffer): void {
    if (this.magicBytes < 4) {
      const take = Math.min(4 - this.magicBytes, chunk.length);
      this.magic.push(chunk.subarray(0, take));
      this.magicBytes += take;
      chunk = chunk.subarray(take);
      if (this.magicBytes < 4) return;
      let magic = Buffer.concat(this.magic);
      if (magic.equals(MAGIC_NANOS_LE)) magic = MAGIC_MICROS_LE;
      else if (magic.equals(MAGIC_NANOS_BE)) magic = MAGIC_MICROS_BE;
      this.magic = [];
      this.feed.write(magic);
    }
    if (chunk.length > 0) this.feed.write(chunk);
  }

  private stopFeeding(): void {
    if (!this.feeding) return;
    this.feeding = false;
    this.feed.end();
  }
}

/** tcpdump's own counters, printed on stderr when it exits. Missing lines stay undefined. */
export interface TcpdumpStats {
  /** "N packets captured": packets tcpdump wrote. */
  captured?: number;
  /** "N packets received by filter". */
  receivedByFilter?: number;
  /** "N packets dropped by kernel": the capture buffer overflowed. */
  droppedByKernel?: number;
  /** "N packets dropped by interface" (printed by newer tcpdump when non-zero). */
  droppedByInterface?: number;
}

const STAT_LINES: [keyof TcpdumpStats, RegExp][] = [
  ['captured', /^\s*(\d+) packets? captured\s*$/gm],
  ['receivedByFilter', /^\s*(\d+) packets? received by filter\s*$/gm],
  ['droppedByKernel', /^\s*(\d+) packets? dropped by kernel\s*$/gm],
  ['droppedByInterface', /^\s*(\d+) packets? dropped by interface\s*$/gm],
];

/**
 * Parses tcpdump's end-of-capture summary from its stderr (any other lines are ignored; when a line repeats, as
 * after SIGUSR1, the last one wins).
 */
export function parseTcpdumpStats(stderr: string): TcpdumpStats {
  const text = stderr.replace(/\r/g, '\n');
  const stats: TcpdumpStats = {};
  for (const [key, re] of STAT_LINES) {
    for (const m of text.matchAll(re)) stats[key] = Number(m[1]);
  }
  return stats;
}

/** Maps tcpdump's counters to ISB options the way dumpcap does (ifrecv = received, ifdrop = all drops). */
export function tcpdumpStatsToInterfaceStatistics(stats: TcpdumpStats): Omit<InterfaceStatistics, 'tsNanos'> {
  const drops =
    stats.droppedByKernel === undefined && stats.droppedByInterface === undefined
      ? undefined
      : (stats.droppedByKernel ?? 0) + (stats.droppedByInterface ?? 0);
  return {
    ifRecv: stats.receivedByFilter,
    ifDrop: drops,
    userDelivered: stats.captured,
  };
}
