/**
 * A WebSocket to a Kubernetes streaming endpoint (exec): every message is one channel's data, its first byte the
 * channel number. Received data is handed on as views of the socket's reads (see websocket-frames.ts for why), and
 * pausing it pauses the TCP socket, so flow control reaches the API server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { encodeClientFrame, FrameReader, Opcode, WebSocketProtocolError } from './websocket-frames.js';

/** Where to connect and how: an http(s) URL and the TLS, auth and agent options the kubeconfig gives. */
export interface StreamTarget {
  readonly url: string;
  readonly options: https.RequestOptions;
}

export interface ChannelSocketEvents {
  /** The handshake succeeded; `protocol` is the negotiated subprotocol. */
  open: [];
  /** Part of a message on `channel` (a view, in order; a message may arrive in several parts). */
  data: [channel: number, piece: Buffer];
  /** The message on `channel` is complete. */
  'message-end': [channel: number];
  /** The server refused the upgrade with an HTTP answer. */
  'unexpected-response': [status: number, body: string];
  error: [err: Error];
  /** The connection is gone; 1005 when the server's close frame had no code, 1006 when there was none. */
  close: [code: number, reason: string];
}

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Every socket read is a new buffer (TLS hands over at most 16 KiB per read), freed only when V8 collects the object
 * that holds it. A stream makes few JS objects per byte, so the young generation fills slowly and tens of MiB of dead
 * reads waited in malloc's heap for the next scavenge. A minor GC after every 1 MiB read bounds that; with nothing
 * alive to copy it takes ~0.3 ms. The few reads still queued in a sink at two scavenges in a row are promoted, and
 * only a full GC frees those, which V8 starts for external memory only after ~64 MiB; so every 16 MiB, if more than
 * 3 MiB of buffers are alive, a full GC runs (concurrently). On the lab, 2 GiB captures through the launcher: peak
 * RSS 110.9/103.2/104.7 MiB without → 99.0 with a minor GC every 2 MiB; the single executable, 5 rounds at 2 MiB:
 * 99.1–101.2 MiB (malloc's heap 9.7–11 MiB) → 4 rounds at 1 MiB: 96.1–100.3 (7.0–8.2), 72–74 MiB/s against 75–78
 * (docs/sniff.md). Only when the runtime exposes gc (NODE_FLAGS in scripts/release/lib/sea.ts).
 */
const COLLECT_AFTER_BYTES = 1024 * 1024;
const FULL_CHECK_EVERY = 16;
const PROMOTED_LIMIT_BYTES = 3 * 1024 * 1024;

/** The collection after the `count`th {@link COLLECT_AFTER_BYTES} read. */
function collectReads(count: number): void {
  const gc = globalThis.gc;
  if (!gc) return;
  gc({ type: 'minor' });
  if (count % FULL_CHECK_EVERY === 0 && process.memoryUsage().arrayBuffers > PROMOTED_LIMIT_BYTES) {
    void gc({ type: 'major', execution: 'async' });
  }
}
const NO_CLOSE_FRAME = 1006;
const NO_STATUS_CODE = 1005;

/** Connects at once; listen for 'open', 'data', 'message-end', 'close' and 'error' right after constructing. */
export class ChannelWebSocket extends EventEmitter<ChannelSocketEvents> {
  /** The subprotocol the server chose ('' before 'open'). */
  protocol = '';
  private socket: Duplex | undefined;
  private request: http.ClientRequest | undefined;
  private channel: number | undefined;
  private closeCode = NO_CLOSE_FRAME;
  private closeReason = '';
  private closeSent = false;
  private ended = false;

  constructor(target: StreamTarget, protocols: readonly string[], options: { readonly handshakeTimeoutMs?: number }) {
    super();
    const key = randomBytes(16).toString('base64');
    const url = new URL(target.url);
    const request = (url.protocol === 'http:' ? http : https).request(url, {
      ...target.options,
      method: 'GET',
      headers: {
        ...target.options.headers,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
        'Sec-WebSocket-Protocol': protocols.join(', '),
      },
    });
    this.request = request;
    const timeoutMs = options.handshakeTimeoutMs ?? 0;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            const err = new Error(`the WebSocket handshake took longer than ${timeoutMs} ms`);
            err.name = 'TimeoutError';
            request.destroy(err);
          }, timeoutMs)
        : undefined;
    request.once('close', () => clearTimeout(timer));
    request.on('error', (err) => this.finish(err));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        this.emit('unexpected-response', response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
        this.finish();
      });
      response.on('error', (err) => this.finish(err));
    });
    request.on('upgrade', (response, socket, head) => {
      clearTimeout(timer);
      this.request = undefined;
      this.socket = socket;
      const accept = createHash('sha1').update(`${key}${HANDSHAKE_GUID}`).digest('base64');
      const chosen = response.headers['sec-websocket-protocol'] ?? '';
      const refusal =
        response.headers['sec-websocket-accept'] !== accept
          ? 'the server answered the WebSocket handshake with a wrong Sec-WebSocket-Accept'
          : !protocols.includes(chosen)
            ? `the server chose the subprotocol "${chosen}", which was not offered`
            : response.headers['sec-websocket-extensions'] !== undefined
              ? 'the server enabled a WebSocket extension that was not offered'
              : undefined;
      socket.on('error', (err) => this.finish(err));
      socket.on('close', () => this.finish());
      if (refusal) {
        this.finish(new WebSocketProtocolError(refusal));
        return;
      }
      this.protocol = chosen;
      const reader = new FrameReader({
        data: (piece, first) => this.onData(piece, first),
        messageEnd: () => this.onMessageEnd(),
        control: (opcode, payload) => this.onControl(opcode, payload),
      });
      let unreclaimed = 0;
      let collections = 0;
      const read = (chunk: Buffer) => {
        unreclaimed += chunk.length;
        if (unreclaimed >= COLLECT_AFTER_BYTES) {
          unreclaimed = 0;
          collections += 1;
          collectReads(collections);
        }
        try {
          reader.push(chunk);
        } catch (err) {
          this.finish(err as Error);
        }
      };
      socket.on('data', read);
      // The server's FIN: answer it (no half-open connection is kept); 'close' follows.
      socket.on('end', () => socket.end());
      this.emit('open');
      if (head.length > 0) read(head);
    });
    request.end();
  }

  /** Bytes written but not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket?.writableLength ?? 0;
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.ended && !this.closeSent;
  }

  /** Sends one message on `channel`; resolves once it was handed to the kernel. */
  send(channel: number, payload: Uint8Array): Promise<void> {
    return this.write(encodeClientFrame(Opcode.Binary, [Uint8Array.of(channel), payload]));
  }

  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  /** Drops the connection without a closing handshake (cancellation, a failed sink). */
  terminate(): void {
    this.request?.destroy();
    this.socket?.destroy();
  }

  private write(frame: Buffer): Promise<void> {
    const socket = this.socket;
    if (!socket || this.ended) return Promise.reject(new Error('the WebSocket is not open'));
    return new Promise((resolve, reject) => socket.write(frame, (err) => (err ? reject(err) : resolve())));
  }

  private onData(piece: Buffer, first: boolean): void {
    let data = piece;
    if (first) this.channel = undefined;
    if (this.channel === undefined) {
      if (data.length === 0) return;
      this.channel = data[0] as number;
      data = data.subarray(1);
    }
    if (data.length > 0) this.emit('data', this.channel, data);
  }

  private onMessageEnd(): void {
    // An empty message carries no channel and nothing for anyone.
    if (this.channel !== undefined) this.emit('message-end', this.channel);
    this.channel = undefined;
  }

  private onControl(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      this.write(encodeClientFrame(Opcode.Pong, [payload])).catch(() => undefined);
      return;
    }
    if (opcode !== Opcode.Close) return;
    this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : NO_STATUS_CODE;
    this.closeReason = payload.subarray(2).toString('utf8');
    if (!this.closeSent) {
      this.closeSent = true;
      // Echo the code (RFC 6455 §5.5.1), then end our side; the server closes the TCP connection.
      const echo = payload.subarray(0, Math.min(2, payload.length));
      this.socket?.end(encodeClientFrame(Opcode.Close, [echo]));
    }
  }

  /** Reports the end once: an error first when there is one, then 'close'. */
  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (err) {
      this.socket?.destroy();
      this.request?.destroy();
      this.emit('error', err);
    }
    const socket = this.socket;
    // Wait for the socket's own 'close' so every byte already read reached the listeners.
    if (socket && !socket.destroyed && !err)
      socket.once('close', () => this.emit('close', this.closeCode, this.closeReason));
    else this.emit('close', this.closeCode, this.closeReason);
  }
}
