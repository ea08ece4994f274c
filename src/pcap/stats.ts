/**
 * Live capture statistics (a byte-preserving tap that follows the pcap records) and tcpdump's end-of-capture counters.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { PcapRecordWalk } from './classic.js';
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

/**
 * A Transform that passes every chunk through unchanged (same Buffer objects, same order) and counts the packets
 * as their records complete, without copying them ({@link PcapRecordWalk}). Rates use the local clock, not packet
 * timestamps. Emits 'first-packet' once, when the first packet has been counted. A stream that stops being
 * parseable still passes through untouched; counting stops and `error` says why.
 */
export class CaptureStatsTap extends Transform {
  readonly target: string;
  private readonly walk: PcapRecordWalk;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly samples: Sample[] = [];
  private counters = { packets: 0, bytes: 0, capturedBytes: 0, streamBytes: 0 };
  private linkType: number | undefined;
  private lastPacketAt: number | undefined;
  private error: string | undefined;

  constructor(options: { target: string; windowMs?: number; now?: () => number }) {
    super();
    this.target = options.target;
    this.now = options.now ?? Date.now;
    this.windowMs = options.windowMs ?? 5000;
    this.walk = new PcapRecordWalk(
      (header) => (this.linkType = header.linkType),
      (origLen, capLen) => this.count(origLen, capLen),
    );
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.counters.streamBytes += chunk.length;
    this.push(chunk);
    if (this.error === undefined) {
      try {
        this.walk.push(chunk);
      } catch (err) {
        this.error = (err as Error).message;
      }
    }
    done();
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
