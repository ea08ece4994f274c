/**
 * RFC 6455 framing for the one kind of WebSocket client this tool needs: the Kubernetes streaming channels (exec).
 * Pure functions and a push parser, no I/O.
 *
 * Why not `ws`: its receiver joins every frame that spans two socket reads into a new buffer before emitting it. The
 * API server sends ~32 KiB frames and TLS delivers at most 16 KiB per read, so every frame of a capture was copied
 * once more on its way to the sink — 50 MB/s of extra short-lived allocations, which is what malloc's heap kept
 * between garbage collections (docs/sniff.md, "Peak RSS"). {@link FrameReader} hands out views of the reads instead.
 */
import { randomFillSync } from 'node:crypto';

export const Opcode = { Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const;

/** What a server frame said that this client cannot accept; the connection must be failed (RFC 6455 §7.1.7). */
export class WebSocketProtocolError extends Error {
  override readonly name = 'WebSocketProtocolError';
}

/** Receives what {@link FrameReader} parsed. */
export interface FrameHandlers {
  /**
   * Part of a data message's payload, in order; `first` marks the first part of a message (which may be empty when
   * a message starts with an empty fragment). The buffer is a view into a chunk given to `push`.
   */
  data(piece: Buffer, first: boolean): void;
  /** The data message whose parts were just delivered is complete. */
  messageEnd(): void;
  /** A whole control frame (close, ping, pong); its payload is at most 125 bytes. */
  control(opcode: number, payload: Buffer): void;
}

/** Largest header: 2 bytes, 8 of extended length, 4 of mask (servers must not mask, but the length is checked). */
const MAX_HEADER = 14;

/**
 * Parses server-to-client frames from socket reads of any size. Payload bytes of data frames are passed on as views
 * (no copy); only a header split across two reads and control payloads are copied, into small buffers.
 */
export class FrameReader {
  private readonly header = Buffer.alloc(MAX_HEADER);
  private headerHave = 0;
  private payloadLeft = 0;
  private inFrame = false;
  private frameOpcode = 0;
  private frameFin = false;
  private inMessage = false;
  private messageStarted = false;
  private controlParts: Buffer[] = [];

  constructor(private readonly handlers: FrameHandlers) {}

  /** Feeds one socket read. Throws {@link WebSocketProtocolError} on a frame this client must refuse. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (!this.inFrame) {
        at = this.readHeader(chunk, at);
        continue;
      }
      const take = Math.min(this.payloadLeft, chunk.length - at);
      const piece = chunk.subarray(at, at + take);
      at += take;
      this.payloadLeft -= take;
      this.deliver(piece);
      if (this.payloadLeft === 0) this.endFrame();
    }
  }

  /** Copies header bytes until the header is whole, then starts its frame; returns the new offset into `chunk`. */
  private readHeader(chunk: Buffer, at: number): number {
    const need = this.headerHave < 2 ? 2 : headerLength(this.header);
    const take = Math.min(need - this.headerHave, chunk.length - at);
    chunk.copy(this.header, this.headerHave, at, at + take);
    this.headerHave += take;
    if (this.headerHave === need && (need > 2 || headerLength(this.header) === 2)) this.startFrame();
    return at + take;
  }

  private startFrame(): void {
    const first = this.header[0] as number;
    const second = this.header[1] as number;
    const fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    if ((first & 0x70) !== 0)
      throw new WebSocketProtocolError('server frame has RSV bits set (no extension was negotiated)');
    if ((second & 0x80) !== 0) throw new WebSocketProtocolError('server frame is masked');
    const length = payloadLength(this.header);
    const control = opcode >= 0x8;
    if (control) {
      if (opcode !== Opcode.Close && opcode !== Opcode.Ping && opcode !== Opcode.Pong)
        throw new WebSocketProtocolError(`unknown control opcode ${opcode}`);
      if (!fin || length > 125)
        throw new WebSocketProtocolError('control frame is fragmented or longer than 125 bytes');
    } else if (opcode === Opcode.Continuation) {
      if (!this.inMessage) throw new WebSocketProtocolError('continuation frame outside a message');
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.inMessage) throw new WebSocketProtocolError('new message before the previous one ended');
      this.inMessage = true;
      this.messageStarted = false;
    } else {
      throw new WebSocketProtocolError(`unknown data opcode ${opcode}`);
    }
    this.headerHave = 0;
    this.frameOpcode = opcode;
    this.frameFin = fin;
    this.payloadLeft = length;
    this.inFrame = true;
    if (length === 0) this.endFrame();
  }

  private deliver(piece: Buffer): void {
    if (this.frameOpcode >= 0x8) {
      this.controlParts.push(Buffer.from(piece));
      return;
    }
    const first = !this.messageStarted;
    this.messageStarted = true;
    this.handlers.data(piece, first);
  }

  private endFrame(): void {
    this.inFrame = false;
    if (this.frameOpcode >= 0x8) {
      const payload = Buffer.concat(this.controlParts);
      this.controlParts = [];
      this.handlers.control(this.frameOpcode, payload);
      return;
    }
    if (!this.frameFin) return;
    if (!this.messageStarted) this.handlers.data(Buffer.alloc(0), true);
    this.inMessage = false;
    this.handlers.messageEnd();
  }
}

/** Total header length once its first two bytes are known. */
function headerLength(header: Buffer): number {
  const code = (header[1] as number) & 0x7f;
  const masked = ((header[1] as number) & 0x80) !== 0 ? 4 : 0;
  return 2 + (code === 126 ? 2 : code === 127 ? 8 : 0) + masked;
}

function payloadLength(header: Buffer): number {
  const code = (header[1] as number) & 0x7f;
  if (code === 126) return header.readUInt16BE(2);
  if (code !== 127) return code;
  const length = header.readBigUInt64BE(2);
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw new WebSocketProtocolError('frame length is out of range');
  return Number(length);
}

/**
 * One masked client frame (clients must mask, RFC 6455 §5.3) carrying `parts` back to back as its payload, built in
 * one buffer: `encodeClientFrame(Opcode.Binary, [Uint8Array.of(channel), bytes])` is a channel message.
 */
export function encodeClientFrame(opcode: number, parts: readonly Uint8Array[]): Buffer {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const start = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(start + length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | length;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = frame.subarray(start - 4, start);
  randomFillSync(mask);
  let at = start;
  for (const part of parts) {
    frame.set(part, at);
    at += part.length;
  }
  for (let i = start; i < frame.length; i += 1) frame[i] = (frame[i] as number) ^ (mask[(i - start) & 3] as number);
  return frame;
}
