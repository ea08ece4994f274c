/**
 * Streaming k-way merge: N classic pcap streams (one `tcpdump -U -w -` per capture target) into one pcapng, in
 * timestamp order, with bounded memory. See docs/pcap.md for the trade-offs.
 */
import { Readable } from 'node:stream';
import { PcapParser, type PcapEnd, type PcapPacket } from './classic.js';
import { PcapngWriter, type InterfaceStatistics, type NameRecord } from './pcapng.js';

/** Options for {@link PcapngMerger}. */
export interface MergerOptions {
  /** shb_userappl, e.g. `kubectl-netdiag 0.1.0`. */
  userAppl: string;
  /**
   * Packets buffered per input before that input is paused (backpressure to its source). Default 1024.
   */
  maxBufferedPerInput?: number;
  /** Same bound in bytes of packet data per input. Default 8 MiB. */
  maxBufferedBytesPerInput?: number;
  /**
   * How long (ms) an input that has nothing buffered may stay silent (no bytes at all) before the merge stops
   * waiting for it, so one idle pod does not stall the output. Measured on local arrival time, so node clock
   * skew does not matter. Default 1500: tcpdump -U flushes each packet, so a live input's packet normally
   * arrives well within it. `Infinity` always waits for every open input (strict order; only `fullGraceMs`
   * releases), 0 writes in arrival order.
   */
  latenessMs?: number;
  /**
   * While some input's buffer is full, the silence after which an empty input stops holding the merge back
   * (default 100 ms, never more than `latenessMs`). This is where memory bound wins over order: a busy input
   * is throttled at most this long by a quiet one, and a packet from the quiet one that arrives later than that
   * may be written after newer packets (counted in `outOfOrder`).
   */
  fullGraceMs?: number;
  /** Output buffer (bytes) before backpressure; default 64 KiB. */
  highWaterMark?: number;
  /** Clock in ms; tests inject one. Default `Date.now`. */
  now?: () => number;
  /** Called when one input fails (not pcap, corrupt, stream error). The merge goes on without it. */
  onInputError?: (input: MergedInput, error: Error) => void;
}

/** Who an input is: becomes the pcapng interface's if_name/if_description (see `k8sInterface`). */
export interface InputDescription {
  name: string;
  description?: string;
  os?: string;
}

/** Per-input counters, for the live view and the final summary. */
export interface MergedInputStats {
  /** Packets written to the output. */
  packets: number;
  /** Bytes on the wire (origLen) of those packets. */
  bytes: number;
  /** Packets buffered now, and the most ever buffered at once (never above the cap). */
  buffered: number;
  maxBuffered: number;
  /** Packets written after a later-stamped packet of another input had already been written. */
  outOfOrder: number;
  /** pcapng interface id once the input's pcap header arrived. */
  interfaceId: number | undefined;
  linkType: number | undefined;
  /** True once the input ended (or failed) and all its packets were written. */
  done: boolean;
  ending: PcapEnd | undefined;
  error: Error | undefined;
}

/** Handle for one input of a {@link PcapngMerger}. */
export class MergedInput {
  /** Order in which the input was added (0-based). */
  readonly index: number;
  readonly description: InputDescription;
  /** @internal */ readonly parser = new PcapParser();
  /** @internal */ readonly queue: PcapPacket[] = [];
  /** @internal Local time (ms) bytes last arrived on this input, or when it was added. */ lastActivity: number;
  /** @internal */ queuedBytes = 0;
  /** @internal */ sourceEnded = false;
  /** @internal */ pausedByMerger = false;
  /** @internal */ nanos = false;
  /** @internal */ firstTs: bigint | undefined;
  /** @internal */ lastTs: bigint | undefined;
  /** @internal */ interfaceStats: Omit<InterfaceStatistics, 'tsNanos'> | undefined;
  /** @internal */ detach: () => void = () => undefined;
  private readonly counters: MergedInputStats = {
    packets: 0,
    bytes: 0,
    buffered: 0,
    maxBuffered: 0,
    outOfOrder: 0,
    interfaceId: undefined,
    linkType: undefined,
    done: false,
    ending: undefined,
    error: undefined,
  };

  /** @internal */
  constructor(
    index: number,
    description: InputDescription,
    readonly source: Readable,
    now: number,
  ) {
    this.lastActivity = now;
    this.index = index;
    this.description = description;
  }

  /** A snapshot of the counters. */
  get stats(): MergedInputStats {
    return { ...this.counters, buffered: this.queue.length };
  }

  /** @internal */ get mutable(): MergedInputStats {
    return this.counters;
  }

  /**
   * Kernel counters for the final Interface Statistics Block (from {@link parseTcpdumpStats} via
   * `tcpdumpStatsToInterfaceStatistics`). Call before {@link PcapngMerger.close}; ISBs are written at the end.
   */
  setStatistics(stats: Omit<InterfaceStatistics, 'tsNanos'>): void {
    this.interfaceStats = stats;
  }
}

const nowNanos = (ms: number): bigint => BigInt(Math.round(ms)) * 1_000_000n;

/**
 * Merges classic pcap inputs into one pcapng stream (a Readable of bytes: pipe it to a file or a viewer).
 *
 * - Output: SHB first; an IDB when each input's pcap header arrives (ids in arrival order); NRBs whenever
 *   {@link addNames} brings new names; EPBs in timestamp order; ISBs for inputs with statistics; then end.
 * - Ordering: the oldest buffered packet is written when every open input has a packet buffered (the
 *   watermark); an empty input stops counting once it has been silent for `latenessMs` (or `fullGraceMs` while
 *   some input's buffer is full).
 * - Memory: each input holds at most `maxBufferedPerInput` packets / `maxBufferedBytesPerInput` bytes parsed,
 *   plus the unparsed bytes of the chunk in flight; a full input's source is paused. When the consumer of the
 *   output is slow, nothing is written and all inputs pause in turn.
 * - Inputs may be added while the merge runs. {@link close} says no more inputs or statistics will come; the
 *   output ends once every input has ended and everything is written.
 */
export class PcapngMerger extends Readable {
  private readonly writer = new PcapngWriter();
  private readonly inputs: MergedInput[] = [];
  private readonly maxPackets: number;
  private readonly maxBytes: number;
  private readonly lateness: number;
  private readonly fullGrace: number;
  private readonly now: () => number;
  private readonly onInputError: MergerOptions['onInputError'];
  private reading = false;
  private noMoreInputs = false;
  private outputEnded = false;
  private pumping = false;
  private pumpAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private lastEmittedTs: bigint | undefined;

  constructor(options: MergerOptions) {
    super({ highWaterMark: options.highWaterMark ?? 64 * 1024 });
    this.maxPackets = Math.max(1, options.maxBufferedPerInput ?? 1024);
    this.maxBytes = Math.max(1, options.maxBufferedBytesPerInput ?? 8 * 1024 * 1024);
    this.lateness = options.latenessMs ?? 1500;
    this.fullGrace = options.fullGraceMs ?? 100;
    this.now = options.now ?? Date.now;
    this.onInputError = options.onInputError;
    this.push(this.writer.sectionHeader({ userAppl: options.userAppl }));
  }

  /** Adds a classic pcap byte stream. The merger reads it in flowing mode and pauses it when its buffer is full. */
  addInput(source: Readable, description: InputDescription): MergedInput {
    if (this.noMoreInputs) throw new Error('PcapngMerger: addInput after close');
    const input = new MergedInput(this.inputs.length, description, source, this.now());
    this.inputs.push(input);
    const onData = (chunk: Buffer | string): void => {
      input.lastActivity = this.now();
      input.parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
      this.pump();
    };
    const onEnd = (): void => {
      input.sourceEnded = true;
      this.pump();
    };
    const onError = (err: Error): void => this.failInput(input, err);
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('close', onEnd); // destroyed without 'end': what was parsed still counts
    source.on('error', onError);
    input.detach = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('close', onEnd);
      source.off('error', onError);
      // a late error from a source we are done with must not crash the process; its owner has its own listener
      if (source.listenerCount('error') === 0) source.on('error', () => undefined);
    };
    if (source.readableEnded || source.destroyed) queueMicrotask(onEnd); // ended before it was added
    return input;
  }

  /** Adds pod/Service names; an NRB with the ones not written before goes out right away. */
  addNames(records: readonly NameRecord[]): void {
    if (this.outputEnded || this.destroyed) return;
    const nrb = this.writer.names(records);
    if (nrb !== undefined) this.push(nrb);
  }

  /** No more inputs or statistics will be added. The output ends once all inputs have ended. */
  close(): void {
    this.noMoreInputs = true;
    this.pump();
  }

  /** All inputs, in the order they were added. */
  get mergedInputs(): readonly MergedInput[] {
    return this.inputs;
  }

  override _read(): void {
    this.reading = true;
    this.pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.clearTimer();
    for (const input of this.inputs) input.detach();
    callback(error);
  }

  private failInput(input: MergedInput, err: Error): void {
    const stats = input.mutable;
    if (stats.done) return;
    stats.error = err;
    input.sourceEnded = true;
    input.detach();
    // Keep draining so a failed source cannot block its producer (e.g. an exec stream) forever.
    if (!input.source.destroyed) input.source.resume();
    input.parser.end();
    this.finishInput(input, { truncatedBytes: 0, headerMissing: input.mutable.interfaceId === undefined });
    this.onInputError?.(input, err);
    this.pump();
  }

  private finishInput(input: MergedInput, ending: PcapEnd): void {
    const stats = input.mutable;
    stats.ending ??= ending;
    stats.done = true;
    input.detach();
  }

  private isFull(input: MergedInput): boolean {
    return input.queue.length >= this.maxPackets || input.queuedBytes >= this.maxBytes;
  }

  /** Parses queued bytes into the input's packet queue up to the cap; writes its IDB when the header arrives. */
  private fill(input: MergedInput): void {
    const stats = input.mutable;
    while (!stats.done && !this.isFull(input)) {
      let item;
      try {
        item = input.parser.next();
      } catch (err) {
        this.failInput(input, err as Error);
        return;
      }
      if (item === undefined) {
        if (input.sourceEnded) this.finishInput(input, input.parser.end());
        return;
      }
      if (item.kind === 'header') {
        const h = item.header;
        input.nanos = h.nanos;
        const { id, block } = this.writer.addInterface({
          linkType: h.linkType,
          snaplen: h.snaplen,
          nanos: h.nanos,
          ...input.description,
        });
        stats.interfaceId = id;
        stats.linkType = h.linkType;
        this.push(block);
      } else {
        input.queue.push(item.packet);
        input.queuedBytes += item.packet.data.length;
        stats.maxBuffered = Math.max(stats.maxBuffered, input.queue.length);
      }
    }
  }

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.step();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private step(): void {
    if (this.outputEnded || this.destroyed) return;
    for (;;) {
      for (const input of this.inputs) this.fill(input);
      let head: MergedInput | undefined;
      let waiting = false;
      let full = false;
      for (const input of this.inputs) {
        const first = input.queue[0];
        if (first !== undefined) {
          if (head === undefined || first.tsNanos < head.queue[0]!.tsNanos) head = input;
          if (this.isFull(input)) full = true;
        } else if (!input.mutable.done) {
          waiting = true;
        }
      }
      if (head === undefined) {
        if (!waiting && this.noMoreInputs) this.finish();
        break;
      }
      if (!this.reading) break;
      if (waiting) {
        // Which empty, still-open inputs may still send something older than the head?
        const now = this.now();
        let blocked = false;
        let due = Infinity;
        for (const input of this.inputs) {
          if (input.queue.length > 0 || input.mutable.done) continue;
          // Silent for the lateness bound: idle. Under memory pressure (some input full) a shorter silence will do.
          const patience = full ? Math.min(this.fullGrace, this.lateness) : this.lateness;
          if (now - input.lastActivity >= patience) continue;
          blocked = true;
          due = Math.min(due, input.lastActivity + patience);
        }
        if (blocked) {
          if (Number.isFinite(due)) this.schedule(due);
          break;
        }
      }
      this.emit1(head);
    }
    this.applyBackpressure();
  }

  private emit1(input: MergedInput): void {
    const packet = input.queue.shift()!;
    input.queuedBytes -= packet.data.length;
    const stats = input.mutable;
    stats.packets++;
    stats.bytes += packet.origLen;
    if (this.lastEmittedTs !== undefined && packet.tsNanos < this.lastEmittedTs) stats.outOfOrder++;
    else this.lastEmittedTs = packet.tsNanos;
    input.firstTs ??= packet.tsNanos;
    input.lastTs = packet.tsNanos;
    if (!this.push(this.writer.packet(stats.interfaceId!, packet))) this.reading = false;
  }

  private applyBackpressure(): void {
    for (const input of this.inputs) {
      if (input.mutable.done) continue;
      if (this.isFull(input)) {
        if (!input.pausedByMerger) {
          input.pausedByMerger = true;
          input.source.pause();
        }
      } else if (input.pausedByMerger) {
        input.pausedByMerger = false;
        input.source.resume();
      }
    }
  }

  private schedule(due: number): void {
    if (this.timer !== undefined && this.timerDue <= due) return;
    this.clearTimer();
    this.timerDue = due;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerDue = Infinity;
        this.pump();
      },
      Math.max(1, due - this.now()),
    );
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
  }

  private finish(): void {
    this.outputEnded = true;
    this.clearTimer();
    const ts = nowNanos(this.now());
    for (const input of this.inputs) {
      const id = input.mutable.interfaceId;
      if (id === undefined || input.interfaceStats === undefined) continue;
      this.push(
        this.writer.statistics(id, {
          startNanos: input.firstTs,
          endNanos: input.lastTs,
          ...input.interfaceStats,
          tsNanos: ts,
        }),
      );
    }
    this.push(null);
  }
}
