/**
 * The remote half of every capture mode: run the bounded capture argv over exec, stream its stdout with
 * backpressure, keep the remote watchdog fed, and stop it gracefully (flush + statistics) when asked.
 */
import { PassThrough, Writable } from 'node:stream';
import { execInPod } from '../kube/exec.js';
import type { KubeClient } from '../kube/client.js';
import { parseTcpdumpStats, type TcpdumpStats } from '../pcap/stats.js';
import { CAPTURE_END_MARKER, HEARTBEAT_INTERVAL_MS, HEARTBEAT_LINE, STOP_LINE } from './tcpdump.js';
import type { CaptureTarget } from './resolve.js';

/** One capture mode for one target (ksniff's sniffer shape): prepare, capture into a sink, undo. */
export interface Sniffer {
  readonly target: CaptureTarget;
  /** Where the capture runs, for messages: `ephemeral container netdiag-sniff-x in ns/pod`. */
  readonly where: string;
  /** Creates or reuses what the capture needs (ephemeral container, helper pod, uploaded binary). */
  setup(signal: AbortSignal): Promise<void>;
  /**
   * Captures into `sink` (classic pcap bytes, written with backpressure; not ended here) until the remote capture
   * ends by itself (count, bound) or `stop` aborts (then it flushes and exits gracefully). `abort` tears down at once.
   */
  start(sink: Writable, control: CaptureControl): Promise<RemoteCaptureResult>;
  /** Removes what setup created that the run session does not remove by itself. Never throws. */
  cleanup(): Promise<void>;
}

export interface CaptureControl {
  /** Graceful stop: the remote tcpdump gets SIGTERM, flushes and prints its statistics. */
  readonly stop: AbortSignal;
  /** Hard stop: the exec stream is closed at once. */
  readonly abort: AbortSignal;
  /** Called once with tcpdump's "listening on ..." line: the capture is live. */
  readonly onListening?: (line: string) => void;
  /** Packets of this capture the client has received so far (the stream's stats tap counts them). */
  readonly packetsReceived: () => number;
}

export interface RemoteCaptureResult {
  readonly exitCode: number;
  /** tcpdump's stderr (its own messages and end-of-capture counters), at most the last 64 KiB. */
  readonly stderr: string;
  readonly tcpdump: TcpdumpStats;
  /** True when the capture ended because it was asked to stop. */
  readonly stopped: boolean;
}

/** How long a stopped capture may take to flush and exit before its stream is closed anyway. */
export const STOP_GRACE_MS = 10_000;
/** How long the client waits for the last packets tcpdump reported before it releases the remote side anyway. */
export const TAIL_WAIT_MS = 5000;
const CAPTURE_END = new RegExp(`^${CAPTURE_END_MARKER} `, 'm');
const STDERR_KEEP = 64 * 1024;

export interface RemoteCaptureOptions {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly command: readonly string[];
}

/** Runs a bounded capture command over exec (see CAPTURE_WRAPPER_SCRIPT for the remote side of the protocol). */
export async function runRemoteCapture(
  client: KubeClient,
  options: RemoteCaptureOptions,
  sink: Writable,
  control: CaptureControl,
): Promise<RemoteCaptureResult> {
  const stdin = new PassThrough();
  let stderr = '';
  let listening = false;
  let releasing = false;
  let tailTimer: NodeJS.Timeout | undefined;
  // The capture has ended remotely: close stdin (which lets the wrapper exit) once every packet tcpdump says it
  // wrote has arrived here, so the exec stream never ends with the tail of the capture still in flight.
  const releaseWhenComplete = () => {
    releasing = true;
    const expected = parseTcpdumpStats(stderr).captured ?? 0;
    const deadline = Date.now() + TAIL_WAIT_MS;
    const check = () => {
      if (control.packetsReceived() >= expected || Date.now() >= deadline) stdin.end();
      else tailTimer = setTimeout(check, 20);
    };
    check();
  };
  const stderrSink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP);
      if (!listening) {
        const line = /^.*listening on .*$/m.exec(stderr)?.[0];
        if (line) {
          listening = true;
          control.onListening?.(line.trim());
        }
      }
      if (!releasing && CAPTURE_END.test(stderr)) releaseWhenComplete();
      callback();
    },
  });
  const hardStop = new AbortController();
  let stopped = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const onStop = () => {
    stopped = true;
    if (!stdin.writableEnded) stdin.write(STOP_LINE);
    graceTimer = setTimeout(() => hardStop.abort(new Error('the remote capture did not stop in time')), STOP_GRACE_MS);
  };
  const heartbeat = setInterval(() => {
    if (!stdin.writableEnded) stdin.write(HEARTBEAT_LINE);
  }, HEARTBEAT_INTERVAL_MS);
  if (control.stop.aborted) onStop();
  else control.stop.addEventListener('abort', onStop, { once: true });
  try {
    const result = await execInPod(client, {
      namespace: options.namespace,
      pod: options.pod,
      container: options.container,
      command: options.command,
      stdin,
      stdout: sink,
      stderr: stderrSink,
      signal: AbortSignal.any([control.abort, hardStop.signal]),
    });
    return { exitCode: result.exitCode, stderr, tcpdump: parseTcpdumpStats(stderr), stopped };
  } catch (err) {
    if (hardStop.signal.aborted && !control.abort.aborted) {
      // Stopped, but the remote side never confirmed: what arrived is still a valid capture.
      return { exitCode: -1, stderr, tcpdump: parseTcpdumpStats(stderr), stopped: true };
    }
    throw err;
  } finally {
    clearInterval(heartbeat);
    clearTimeout(graceTimer);
    clearTimeout(tailTimer);
    control.stop.removeEventListener('abort', onStop);
    if (!stdin.writableEnded) stdin.end();
  }
}
