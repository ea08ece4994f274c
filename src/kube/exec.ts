/**
 * Exec into a container over the Kubernetes WebSocket streaming protocol (v5/v4.channel.k8s.io). client-node's Exec
 * ignores write() return values: a slow consumer (a pipe to Wireshark, a slow disk) would make memory grow without
 * bound. Here the socket is paused whenever a sink's write() returns false and resumed on 'drain', so TCP flow control
 * reaches the API server and the remote process; and output reaches the sinks as views of what the socket read
 * ({@link ChannelWebSocket}), not copies.
 *
 * Protocol: every WebSocket message carries one channel; byte 0 is the channel (0 stdin, 1 stdout, 2 stderr, 3 status
 * as JSON V1Status, 4 resize), the rest is payload. v5 adds channel 255 "close": `[255, 0]` half-closes stdin, which is
 * how a remote `tar -x` learns that its input ended.
 */
import { Writable } from 'node:stream';
import { environmentError, type NetdiagError, usageError } from '../lib/errors.js';
import { sleep } from '../lib/signals.js';
import { ChannelWebSocket } from './channel-socket.js';
import type { KubeClient } from './client.js';
import { classifyFailure, parseApiStatus, type ApiStatus } from './failures.js';

export const STREAM_PROTOCOL_V5 = 'v5.channel.k8s.io';
export const STREAM_PROTOCOL_V4 = 'v4.channel.k8s.io';

export const Channel = { Stdin: 0, Stdout: 1, Stderr: 2, Status: 3, Resize: 4, Close: 255 } as const;

/** How a remote command ended, from the channel-3 status. */
export type ExecOutcome =
  | { readonly kind: 'exited'; readonly exitCode: number }
  /** The command could not run at all (not found in the image, container gone ...). */
  | { readonly kind: 'failed'; readonly reason: string; readonly message: string };

/**
 * Decodes the channel-3 V1Status: `Success` → exit 0; `NonZeroExitCode` with a cause `{reason: "ExitCode",
 * message: "<n>"}` → exit n; anything else is a failure to run the command.
 */
export function decodeExecStatus(text: string): ExecOutcome {
  const status: ApiStatus | undefined = parseApiStatus(text);
  if (!status) return { kind: 'failed', reason: 'BadStatus', message: `unreadable exec status: ${text.slice(0, 200)}` };
  if (status.status === 'Success') return { kind: 'exited', exitCode: 0 };
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((item) => item.reason === 'ExitCode');
    const exitCode = Number(cause?.message);
    if (Number.isInteger(exitCode)) return { kind: 'exited', exitCode };
  }
  return { kind: 'failed', reason: status.reason ?? 'Failure', message: status.message ?? text };
}

/** Query string of an exec request; argv is passed as repeated `command` parameters, never through a shell. */
export function execQuery(options: {
  command: readonly string[];
  container?: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}): URLSearchParams {
  const query = new URLSearchParams();
  for (const arg of options.command) query.append('command', arg);
  if (options.container) query.set('container', options.container);
  query.set('stdin', String(options.stdin));
  query.set('stdout', String(options.stdout));
  query.set('stderr', String(options.stderr));
  query.set('tty', 'false');
  return query;
}

/** What can feed a remote stdin. */
export type ExecInput = AsyncIterable<Uint8Array | string>;

export interface ExecOptions {
  readonly namespace: string;
  readonly pod: string;
  /** Container or ephemeral container name; the pod's default container when omitted. */
  readonly container?: string;
  /** argv; bound long-running commands with {@link boundedArgv} (src/kube/bounded.ts). */
  readonly command: readonly string[];
  /** Receives stdout bytes unchanged (binary-safe). Not ended by exec. */
  readonly stdout?: Writable;
  /** Receives stderr bytes. Not ended by exec. */
  readonly stderr?: Writable;
  /**
   * Sent to the remote stdin; its end half-closes stdin (needs v5, Kubernetes ≥ 1.30). Any async iterable of bytes:
   * a Node Readable, a tar-stream pack, a generator.
   */
  readonly stdin?: ExecInput;
  /** Aborting closes the socket; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  /** The remote process's exit status. */
  readonly exitCode: number;
  /** Negotiated subprotocol. */
  readonly protocol: string;
  readonly stdoutBytes: number;
  readonly stderrBytes: number;
  /** How many times the socket was paused because a sink was full (observability of backpressure). */
  readonly pauses: number;
}

/** Above this many queued outgoing bytes, stdin waits for the socket to flush before reading more. */
const STDIN_HIGH_WATER = 1 << 20;

function upgradeError(status: number, body: string, options: ExecOptions, client: KubeClient): NetdiagError {
  const failure = classifyFailure({ code: status, body });
  const where = `${options.namespace}/${options.pod}${options.container ? ` container ${options.container}` : ''}`;
  if (failure.kind === 'forbidden') {
    return environmentError(
      `forbidden: cannot exec in pods of namespace "${options.namespace}" (${failure.message})`,
      'ask a cluster admin for verbs get,create on pods/exec (see docs/rbac.yaml)',
    );
  }
  if (failure.kind === 'not-found')
    return usageError(`pod ${options.namespace}/${options.pod} not found for exec`, 'check the pod name and -n');
  if (status === 400) {
    // e.g. "container x is not valid for pod y", "pod does not have a host assigned", "container not found".
    return usageError(
      `cannot exec into ${where}: ${failure.message}`,
      'check the container name and that the pod is Running',
    );
  }
  return client.failureFor({ code: status, body }, `exec into ${where}`);
}

/**
 * Runs argv in a container and streams its output with backpressure. Resolves when the remote command has exited
 * (status on channel 3 and the socket closed), with its exit code; a non-zero exit code is a result, not an error.
 * Rejects with a NetdiagError when the command could not run, or with the signal's reason when aborted.
 */
export async function execInPod(client: KubeClient, options: ExecOptions): Promise<ExecResult> {
  if (options.command.length === 0) throw usageError('exec needs a command', 'pass argv with at least one element');
  if (options.signal?.aborted) throw options.signal.reason;
  const query = execQuery({
    command: options.command,
    container: options.container,
    stdin: options.stdin !== undefined,
    // The API requires at least one stream; stdout is always requested so the status channel has company.
    stdout: true,
    stderr: options.stderr !== undefined,
  });
  const target = await client.streamTarget(
    `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods/${encodeURIComponent(options.pod)}/exec`,
    query,
  );
  const socket = new ChannelWebSocket(target, [STREAM_PROTOCOL_V5, STREAM_PROTOCOL_V4], {
    handshakeTimeoutMs: client.requestTimeoutMs,
  });

  return new Promise<ExecResult>((resolve, reject) => {
    let outcome: ExecOutcome | undefined;
    let settled = false;
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let pauses = 0;
    let waitingForDrain = 0;

    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      options.stdout?.off('error', onSinkError);
      options.stderr?.off('error', onSinkError);
      action();
    };
    const fail = (err: unknown) =>
      settle(() => {
        socket.terminate();
        reject(err);
      });
    const onAbort = () => fail(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // A sink that fails (EPIPE when a viewer quits, a full disk) would never drain: end the exec with its error.
    const onSinkError = (err: Error) =>
      fail(
        environmentError(
          `writing the output of \`${options.command[0]}\` failed: ${err.message}`,
          'check where the output goes (pipe, disk space)',
          { cause: err },
        ),
      );
    options.stdout?.on('error', onSinkError);
    options.stderr?.on('error', onSinkError);

    const deliver = (sink: Writable | undefined, payload: Buffer) => {
      if (!sink || payload.length === 0) return;
      if (!sink.write(payload)) {
        // Stop reading from the API server until this sink has room again.
        waitingForDrain += 1;
        pauses += 1;
        socket.pause();
        sink.once('drain', () => {
          waitingForDrain -= 1;
          if (waitingForDrain === 0 && !settled) socket.resume();
        });
      }
    };

    socket.on('unexpected-response', (status, body) => fail(upgradeError(status, body, options, client)));

    socket.on('error', (err) => {
      fail(client.failureFor(err, `exec into pod ${options.namespace}/${options.pod}`));
    });

    socket.on('open', () => {
      if (options.stdin) {
        if (socket.protocol !== STREAM_PROTOCOL_V5) {
          fail(
            environmentError(
              `the API server negotiated ${socket.protocol || 'an old exec protocol'}, which cannot signal end of stdin`,
              'upgrade the cluster to Kubernetes 1.30 or newer (v5.channel.k8s.io)',
            ),
          );
          return;
        }
        void pumpStdin(socket, options.stdin).catch(fail);
      }
    });

    // The status is one small message, possibly in parts; output goes on piece by piece.
    const status: Buffer[] = [];
    socket.on('data', (channel, piece) => {
      switch (channel) {
        case Channel.Stdout:
          stdoutBytes += piece.length;
          deliver(options.stdout, piece);
          break;
        case Channel.Stderr:
          stderrBytes += piece.length;
          deliver(options.stderr, piece);
          break;
        case Channel.Status:
          status.push(piece);
          break;
        default:
          // Resize echoes and unknown channels carry nothing for us.
          break;
      }
    });
    socket.on('message-end', (channel) => {
      if (channel !== Channel.Status) return;
      outcome = decodeExecStatus(Buffer.concat(status.splice(0)).toString('utf8'));
    });

    socket.on('close', (code, reason) => {
      if (settled) return;
      if (outcome?.kind === 'exited') {
        const exitCode = outcome.exitCode;
        settle(() => resolve({ exitCode, protocol: socket.protocol, stdoutBytes, stderrBytes, pauses }));
        return;
      }
      const where = `${options.namespace}/${options.pod}${options.container ? ` (container ${options.container})` : ''}`;
      if (outcome?.kind === 'failed') {
        fail(
          environmentError(
            `could not run \`${options.command[0]}\` in ${where}: ${outcome.message}`,
            'check that the image contains the command and the container is running',
          ),
        );
        return;
      }
      fail(
        environmentError(
          `exec stream to ${where} closed without an exit status (websocket code ${code}${reason.length > 0 ? ` ${reason}` : ''})`,
          'the container may have been killed or the API server restarted; retry',
        ),
      );
    });
  });
}

/** Copies the input to the stdin channel, waiting when the socket's send buffer is large, then half-closes stdin. */
async function pumpStdin(socket: ChannelWebSocket, stdin: ExecInput): Promise<void> {
  for await (const chunk of stdin) {
    if (!socket.isOpen) return;
    const pending = socket.send(Channel.Stdin, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    // Waiting for every send would serialise on round trips; only wait when a lot is queued. A send that fails
    // un-awaited means the socket is closing, which the 'close' handler reports, so its rejection is dropped here.
    if (socket.bufferedAmount > STDIN_HIGH_WATER) await pending;
    else pending.catch(() => undefined);
  }
  if (socket.isOpen) await socket.send(Channel.Close, Uint8Array.of(Channel.Stdin));
}

/** Result of {@link execCapture}: the whole output in memory, for small commands (probes, `cat /etc/resolv.conf`). */
export interface CapturedExec {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/**
 * Runs a short command and collects its output. Output beyond `maxBytes` (default 16 MiB) is an error rather than
 * unbounded memory; stream with {@link execInPod} for anything large.
 */
export async function execCapture(
  client: KubeClient,
  options: Omit<ExecOptions, 'stdout' | 'stderr'> & { maxBytes?: number },
): Promise<CapturedExec> {
  const limit = options.maxBytes ?? 16 * 1024 * 1024;
  const collector = () => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > limit) {
          callback(
            environmentError(
              `output of \`${options.command.join(' ')}\` exceeded ${limit} bytes`,
              'stream it instead of capturing it',
            ),
          );
          return;
        }
        chunks.push(chunk);
        callback();
      },
    });
    return { stream, read: () => Buffer.concat(chunks) };
  };
  const out = collector();
  const err = collector();
  const failed = new Promise<never>((_, reject) => {
    out.stream.once('error', reject);
    err.stream.once('error', reject);
  });
  const result = await Promise.race([
    execInPod(client, { ...options, stdout: out.stream, stderr: err.stream }),
    failed,
  ]);
  return { exitCode: result.exitCode, stdout: out.read(), stderr: err.read().toString('utf8') };
}

/** First pause between exec attempts into a container that is not running yet; it grows to {@link PROBE_MAX_MS}. */
const PROBE_FIRST_MS = 100;
const PROBE_MAX_MS = 1000;

/**
 * Resolves true once `command` exits 0 in the container, false when `signal` aborts first. The kubelet reports a
 * started container only at its next relist of the runtime (up to a second later), while exec reaches the runtime
 * at once: a wait that also tries exec ends that much sooner. Attempts back off from 100 ms to 1 s so a slow start
 * does not flood the API server.
 */
export async function untilExecSucceeds(
  client: KubeClient,
  target: { readonly namespace: string; readonly pod: string; readonly container: string },
  command: readonly string[],
  signal: AbortSignal,
): Promise<boolean> {
  let pause = PROBE_FIRST_MS;
  while (!signal.aborted) {
    try {
      const result = await execInPod(client, { ...target, command, signal });
      if (result.exitCode === 0) return true;
    } catch {
      // Not created or not started yet (the kubelet answers the exec with an error): try again shortly.
    }
    await sleep(pause, signal).catch(() => undefined);
    pause = Math.min(PROBE_MAX_MS, pause * 1.5);
  }
  return false;
}
