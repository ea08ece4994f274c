import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Duplex, Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { KubeClient } from '../../../src/kube/client.js';
import { localKubeconfig } from './local-kubeconfig.js';
import {
  Channel,
  decodeExecStatus,
  execCapture,
  execInPod,
  execQuery,
  STREAM_PROTOCOL_V5,
} from '../../../src/kube/exec.js';
import { NetdiagError } from '../../../src/lib/errors.js';

/** The server side of the channel protocol: one message per channel payload, byte 0 the channel. */
function encodeFrame(channel: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  return Buffer.concat([Uint8Array.of(channel), payload]);
}

function decodeFrame(frame: Buffer): { channel: number; payload: Buffer } {
  return { channel: frame[0] as number, payload: frame.subarray(1) };
}

describe('exec channel protocol', () => {
  it('decodes exit status from channel 3', () => {
    assert.deepEqual(decodeExecStatus('{"metadata":{},"status":"Success"}'), { kind: 'exited', exitCode: 0 });
    const nonZero = JSON.stringify({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    assert.deepEqual(decodeExecStatus(nonZero), { kind: 'exited', exitCode: 3 });
    const notFound = JSON.stringify({
      status: 'Failure',
      message: 'exec: "nope": executable file not found in $PATH',
      reason: 'InternalError',
    });
    assert.deepEqual(decodeExecStatus(notFound), {
      kind: 'failed',
      reason: 'InternalError',
      message: 'exec: "nope": executable file not found in $PATH',
    });
    assert.equal(decodeExecStatus('garbage').kind, 'failed');
  });
  it('passes argv as repeated command parameters', () => {
    const query = execQuery({
      command: ['sh', '-c', 'echo "a b"; exit 3'],
      container: 'tools',
      stdin: true,
      stdout: true,
      stderr: false,
    });
    assert.deepEqual(query.getAll('command'), ['sh', '-c', 'echo "a b"; exit 3']);
    assert.equal(query.get('container'), 'tools');
    assert.equal(query.get('stdin'), 'true');
    assert.equal(query.get('stderr'), 'false');
  });
});

/**
 * Flow control and stdin are exercised against a local WebSocket server that speaks the channel protocol, because
 * what is tested is this client's behaviour (pausing the socket, half-closing stdin), not the API server's.
 * The end-to-end tests run the same code against a real cluster.
 */
describe('execInPod streaming', () => {
  let server: WebSocketServer;
  let client: KubeClient;
  let handler: (socket: WebSocket, url: URL) => void = () => undefined;

  before(async () => {
    server = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      handleProtocols: (protocols) => (protocols.has(STREAM_PROTOCOL_V5) ? STREAM_PROTOCOL_V5 : false),
    });
    server.on('connection', (socket, request) => handler(socket, new URL(request.url ?? '/', 'http://x')));
    await new Promise((resolve) => server.once('listening', resolve));
    const kubeconfig = localKubeconfig((server.address() as AddressInfo).port);
    client = KubeClient.fromAccess({ kubeconfig, requestTimeoutMs: 5000 });
  });
  after(() => server.close());

  it('pauses the socket while the sink is full, delivers every byte in order, returns the exit code', async () => {
    const chunks = Array.from({ length: 512 }, () => randomBytes(32 * 1024));
    handler = (socket, url) => {
      assert.deepEqual(url.searchParams.getAll('command'), ['cat', '/big']);
      for (const chunk of chunks) socket.send(encodeFrame(Channel.Stdout, chunk));
      socket.send(encodeFrame(Channel.Status, Buffer.from('{"status":"Success"}')), () => socket.close(1000));
    };
    const received = createHash('sha256');
    let bytes = 0;
    let maxQueued = 0;
    const slowSink = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        received.update(chunk);
        bytes += chunk.length;
        // Bytes accepted by the sink but not yet consumed: what a slow consumer costs in memory.
        maxQueued = Math.max(maxQueued, slowSink.writableLength);
        setTimeout(callback, 1);
      },
    });
    const result = await execInPod(client, { namespace: 'ns', pod: 'p', command: ['cat', '/big'], stdout: slowSink });
    await new Promise<void>((resolve) => slowSink.end(resolve));
    assert.equal(result.exitCode, 0);
    assert.equal(result.protocol, STREAM_PROTOCOL_V5);
    assert.ok(result.pauses > 0, 'socket was paused at least once');
    assert.equal(bytes, 512 * 32 * 1024);
    assert.equal(received.digest('hex'), createHash('sha256').update(Buffer.concat(chunks)).digest('hex'));
    // 16 MiB were sent at once; without pausing the socket they would all queue in the sink.
    assert.ok(maxQueued < 2 * 1024 * 1024, `sink queue stayed bounded (max ${maxQueued} bytes)`);
  });

  it('collects the dead socket reads as the stream goes: a minor GC after every MiB read', async () => {
    handler = (socket) => {
      for (let i = 0; i < 256; i++) socket.send(encodeFrame(Channel.Stdout, Buffer.alloc(32 * 1024, i)));
      socket.send(encodeFrame(Channel.Status, Buffer.from('{"status":"Success"}')), () => socket.close(1000));
    };
    const collections: string[] = [];
    const exposed = globalThis.gc;
    // The runtime's gc only exists with --expose-gc (NODE_FLAGS); a stand-in records what the stream asks for.
    globalThis.gc = ((options?: { type?: string }) => {
      collections.push(options?.type ?? 'major');
    }) as typeof globalThis.gc;
    try {
      let bytes = 0;
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          callback();
        },
      });
      const result = await execInPod(client, { namespace: 'ns', pod: 'p', command: ['cat'], stdout: sink });
      assert.equal(result.exitCode, 0);
      assert.equal(bytes, 8 * 1024 * 1024);
    } finally {
      globalThis.gc = exposed;
    }
    const minor = collections.filter((type) => type === 'minor').length;
    // 8 MiB of payload plus frame headers: one collection per MiB read, give or take the last partial MiB.
    assert.ok(minor >= 7 && minor <= 9, `minor GCs: ${minor}`);
  });

  it('delivers everything already sent when the server drops the connection right after the status', async () => {
    // What the API server's stream translator does: status, then close at once, while this client is paused with
    // MiBs unread in the kernel. 'close' must come only after every buffered frame reached the sink.
    const chunks = Array.from({ length: 256 }, () => randomBytes(32 * 1024));
    handler = (socket) => {
      for (const chunk of chunks) socket.send(encodeFrame(Channel.Stdout, chunk));
      socket.send(encodeFrame(Channel.Status, Buffer.from('{"status":"Success"}')), () => socket.terminate());
    };
    const received = createHash('sha256');
    let bytes = 0;
    const slowSink = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        received.update(chunk);
        bytes += chunk.length;
        setTimeout(callback, 1);
      },
    });
    const result = await execInPod(client, { namespace: 'ns', pod: 'p', command: ['cat', '/big'], stdout: slowSink });
    await new Promise<void>((resolve) => slowSink.end(resolve));
    assert.equal(result.exitCode, 0);
    assert.ok(result.pauses > 0, 'socket was paused at least once');
    assert.equal(result.stdoutBytes, 256 * 32 * 1024);
    assert.equal(bytes, 256 * 32 * 1024);
    assert.equal(received.digest('hex'), createHash('sha256').update(Buffer.concat(chunks)).digest('hex'));
  });

  it('streams stdin, half-closes it with the v5 close frame and separates stderr', async () => {
    handler = (socket, url) => {
      assert.equal(url.searchParams.get('stdin'), 'true');
      const input: Buffer[] = [];
      socket.on('message', (data: Buffer) => {
        const { channel, payload } = decodeFrame(data);
        if (channel === Channel.Stdin) input.push(Buffer.from(payload));
        if (channel === Channel.Close && payload[0] === Channel.Stdin) {
          const all = Buffer.concat(input);
          socket.send(encodeFrame(Channel.Stdout, all));
          socket.send(encodeFrame(Channel.Stderr, Buffer.from(`read ${all.length} bytes`)));
          socket.send(
            encodeFrame(
              Channel.Status,
              Buffer.from(
                JSON.stringify({
                  status: 'Failure',
                  reason: 'NonZeroExitCode',
                  details: { causes: [{ reason: 'ExitCode', message: '7' }] },
                }),
              ),
            ),
            () => socket.close(1000),
          );
        }
      });
    };
    const input = randomBytes(300_000);
    const result = await execCapture(client, {
      namespace: 'ns',
      pod: 'p',
      command: ['tar', '-x'],
      stdin: Readable.from([input.subarray(0, 100_000), input.subarray(100_000)]),
    });
    assert.equal(result.exitCode, 7);
    assert.deepEqual(result.stdout, input);
    assert.equal(result.stderr, 'read 300000 bytes');
  });

  it('turns a command that cannot run into an environment error', async () => {
    handler = (socket) => {
      socket.send(
        encodeFrame(
          Channel.Status,
          Buffer.from(
            '{"status":"Failure","reason":"InternalError","message":"exec: \\"nope\\": executable file not found in $PATH"}',
          ),
        ),
        () => socket.close(1000),
      );
    };
    await assert.rejects(
      execInPod(client, {
        namespace: 'ns',
        pod: 'p',
        command: ['nope'],
        stdout: new Writable({ write: (_c, _e, cb) => cb() }),
      }),
      (err: unknown) =>
        err instanceof NetdiagError && err.exitCode === 3 && /executable file not found/.test(err.message),
    );
  });

  it('ends the exec with a clear error when the sink fails (e.g. EPIPE)', async () => {
    let closed = false;
    handler = (socket) => {
      socket.send(encodeFrame(Channel.Stdout, Buffer.from('first')));
      socket.on('close', () => {
        closed = true;
      });
    };
    const brokenPipe = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    await assert.rejects(
      execInPod(client, { namespace: 'ns', pod: 'p', command: ['tcpdump'], stdout: brokenPipe }),
      (err: unknown) =>
        err instanceof NetdiagError &&
        err.exitCode === 3 &&
        /writing the output of `tcpdump` failed: write EPIPE/.test(err.message),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(closed, true, 'the socket was closed');
  });

  it('joins a fragmented status, passes fragmented output on in order and answers pings', async () => {
    const output = randomBytes(100_000);
    let ponged = false;
    handler = (socket) => {
      socket.on('pong', (data) => {
        ponged = data.toString() === 'hello';
      });
      socket.ping('hello');
      // One stdout message in three fragments: the channel byte is only in the first.
      socket.send(encodeFrame(Channel.Stdout, output.subarray(0, 10)), { binary: true, fin: false });
      socket.send(output.subarray(10, 60_000), { binary: true, fin: false });
      socket.send(output.subarray(60_000), { binary: true, fin: true });
      const status = encodeFrame(Channel.Status, Buffer.from('{"status":"Success"}'));
      socket.send(status.subarray(0, 5), { binary: true, fin: false });
      socket.send(status.subarray(5), { binary: true, fin: true }, () => setTimeout(() => socket.close(1000), 50));
    };
    const result = await execCapture(client, { namespace: 'ns', pod: 'p', command: ['cat'] });
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.stdout, output);
    assert.equal(ponged, true, 'the ping was answered with its payload');
  });

  it('names the reason when the server closes without a status', async () => {
    handler = (socket) => socket.close(1011, 'stream translator gone');
    await assert.rejects(
      execInPod(client, {
        namespace: 'ns',
        pod: 'p',
        command: ['cat'],
        stdout: new Writable({ write: (_c, _e, cb) => cb() }),
      }),
      (err: unknown) =>
        err instanceof NetdiagError &&
        /closed without an exit status \(websocket code 1011 stream translator gone\)/.test(err.message),
    );
  });

  it('closes the socket and rejects with the reason when aborted', async () => {
    let closed = false;
    handler = (socket) => {
      socket.on('close', () => {
        closed = true;
      });
    };
    const controller = new AbortController();
    const pending = execInPod(client, {
      namespace: 'ns',
      pod: 'p',
      command: ['sleep', '100'],
      stdout: new Writable({ write: (_c, _e, cb) => cb() }),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('stop')), 100);
    await assert.rejects(pending, /stop/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(closed, true);
  });
});

/** Handshakes a real API server would not give, answered by a bare HTTP server. */
describe('execInPod handshake', () => {
  let server: Server;
  let client: KubeClient;
  let answer: (request: IncomingMessage, socket: Duplex) => void = () => undefined;

  before(async () => {
    server = createServer();
    server.on('upgrade', (request: IncomingMessage, socket: Duplex) => answer(request, socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = KubeClient.fromAccess({
      kubeconfig: localKubeconfig((server.address() as AddressInfo).port),
      requestTimeoutMs: 1000,
    });
  });
  after(() => server.close());
  const run = () =>
    execInPod(client, {
      namespace: 'ns',
      pod: 'p',
      command: ['cat'],
      stdout: new Writable({ write: (_c, _e, cb) => cb() }),
    });

  it('turns a refused upgrade into the API error (403 → RBAC fix)', async () => {
    answer = (_request, socket) => {
      const body = JSON.stringify({
        kind: 'Status',
        status: 'Failure',
        reason: 'Forbidden',
        code: 403,
        message: 'pods "p" is forbidden',
      });
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    };
    await assert.rejects(
      run(),
      (err: unknown) =>
        err instanceof NetdiagError && /forbidden: cannot exec in pods of namespace "ns"/.test(err.message),
    );
  });

  it('refuses a subprotocol it did not offer and a wrong Sec-WebSocket-Accept', async () => {
    const accept = (key: string) =>
      createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    for (const [protocol, good, expected] of [
      ['v9.channel.k8s.io', true, /subprotocol "v9.channel.k8s.io", which was not offered/],
      [STREAM_PROTOCOL_V5, false, /wrong Sec-WebSocket-Accept/],
    ] as const) {
      answer = (request, socket) => {
        const key = String(request.headers['sec-websocket-key']);
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Accept: ${good ? accept(key) : accept('other')}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
        );
      };
      await assert.rejects(run(), (err: unknown) => err instanceof NetdiagError && expected.test(err.message));
    }
  });

  it('times out a handshake the server never answers', async () => {
    answer = () => undefined;
    await assert.rejects(
      run(),
      (err: unknown) => err instanceof NetdiagError && /timed out after 1s/.test(err.message),
    );
  });
});
