import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { KubeClient } from '../../../src/kube/client.js';
import { localKubeconfig } from './local-kubeconfig.js';
import {
  Channel,
  closeStdinFrame,
  decodeExecStatus,
  decodeFrame,
  encodeFrame,
  execCapture,
  execInPod,
  execQuery,
  STREAM_PROTOCOL_V5,
} from '../../../src/kube/exec.js';
import { NetdiagError } from '../../../src/lib/errors.js';

describe('exec frame codec', () => {
  it('round-trips binary payloads on every channel', () => {
    const payload = Buffer.from([0, 255, 1, 2, 3, 0x1b]);
    for (const channel of [0, 1, 2, 3, 4, 255]) {
      const decoded = decodeFrame(encodeFrame(channel, payload));
      assert.equal(decoded.channel, channel);
      assert.deepEqual(decoded.payload, payload);
    }
    assert.deepEqual(decodeFrame(encodeFrame(Channel.Stdout)).payload.length, 0);
    assert.throws(() => decodeFrame(Buffer.alloc(0)), /empty exec frame/);
  });
  it('half-closes stdin with [255, 0]', () => {
    assert.deepEqual([...closeStdinFrame()], [255, 0]);
  });
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
