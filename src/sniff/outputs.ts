/**
 * Where capture bytes go: a file, stdout, a live viewer (Wireshark/tshark reading stdin), or a file and a viewer at
 * once. Each output isolates the engine from its consumer: when the consumer goes away (viewer closed, broken
 * pipe), `gone` resolves, writes are discarded instead of stalling the exec streams, and the engine stops the capture.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { environmentError, usageError } from '../lib/errors.js';
import { openOwnedFile } from '../lib/owned-output.js';
import { viewerArgv, type ViewerKind } from './viewer.js';

export type OutputSpec =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'stdout' }
  | {
      readonly kind: 'viewer';
      readonly viewer: ViewerKind;
      readonly binary: string;
      readonly title: string;
      readonly args: readonly string[];
    };

/** What stdout is connected to, as far as choosing latency over batching goes. */
export type StdoutKind = 'pipe' | 'terminal' | 'file';

/**
 * Whether tcpdump should hand over each packet at once (--immediate-mode) by default. Without it the kernel
 * delivers packets in ring blocks, when a block fills or after tcpdump's 1 s timeout: fine for a file, but a
 * viewer or a program reading the pipe then sees the traffic up to a second late and the first packet only after
 * that timeout. Measured on the lab under iperf3 load: no throughput cost (netdiag ÷ raw kubectl exec 1.04).
 */
export function immediateByDefault(outputs: readonly OutputSpec[], stdout: StdoutKind): boolean {
  return outputs.some((o) => o.kind === 'viewer' || (o.kind === 'stdout' && stdout !== 'file'));
}

export interface CaptureOutput {
  readonly description: string;
  /** Capture bytes in; backpressure from the consumer comes out. */
  readonly stream: Writable;
  /** Resolves with a reason when the consumer went away before the capture ended. */
  readonly gone: Promise<string>;
  /**
   * The first packet arrived: a file output may now replace what the path held. Until then bytes are held back, so a
   * run that fails or is stopped before capturing anything leaves an existing file as it was.
   */
  commit(): Promise<void>;
  /** Ends the stream (committing) and waits until the consumer has everything (file closed, tshark done). */
  finish(): Promise<void>;
  /** Nothing was captured: a file this run created is removed, an existing file or a device is left as it was. */
  discard(): Promise<void>;
}

/**
 * Forwards chunks to `target` honouring its backpressure; once the target fails or closes, further chunks are
 * dropped so the producers never block on a consumer that is gone.
 */
class ConsumerGate extends Writable {
  private broken = false;
  private pending: (() => void) | undefined;
  readonly gone: Promise<string>;

  constructor(
    private readonly target: Writable,
    describeLoss: (err?: Error) => string,
    /** False for stdout, which Node does not close (its end callback may never come). */
    private readonly endTarget = true,
  ) {
    super({ highWaterMark: 256 * 1024 });
    this.gone = new Promise((resolve) => {
      const lose = (err?: Error) => {
        if (this.broken) return;
        this.broken = true;
        this.release();
        resolve(describeLoss(err));
      };
      target.on('error', lose);
      target.on('close', () => {
        if (!target.writableFinished) lose();
      });
    });
  }

  private release(): void {
    const callback = this.pending;
    this.pending = undefined;
    callback?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.broken) {
      callback();
      return;
    }
    if (this.target.write(chunk)) {
      callback();
      return;
    }
    this.pending = callback;
    this.target.once('drain', () => this.release());
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.broken || this.target.writableEnded || !this.endTarget) {
      callback();
      return;
    }
    this.target.end(() => callback());
  }
}

/** A file output owns only what it creates (src/lib/owned-output.ts): see {@link CaptureOutput.commit}. */
async function fileOutput(path: string): Promise<CaptureOutput> {
  const file = await openOwnedFile(path, 'pick a writable path with -o');
  const gate = new ConsumerGate(file.stream, (err) => `cannot write ${path}: ${err?.message ?? 'closed'}`);
  return {
    description: path,
    stream: gate,
    gone: gate.gone,
    commit: () => file.commit(),
    finish: () => finishGate(gate, file.stream),
    discard: async () => {
      gate.destroy();
      await file.abandon();
    },
  };
}

function stdoutOutput(): CaptureOutput {
  const gate = new ConsumerGate(
    process.stdout,
    (err) =>
      err && (err as NodeJS.ErrnoException).code === 'EPIPE'
        ? 'the reader of stdout went away'
        : `stdout failed: ${err?.message ?? 'closed'}`,
    false,
  );
  return {
    description: 'stdout',
    stream: gate,
    gone: gate.gone,
    // stdout is not ended (Node does not allow closing it); flushing what was written is enough.
    finish: () =>
      new Promise<void>((resolve) => {
        gate.once('finish', () =>
          process.stdout.writableNeedDrain ? process.stdout.once('drain', () => resolve()) : resolve(),
        );
        gate.end();
      }),
    commit: async () => undefined,
    discard: async () => undefined,
  };
}

function viewerOutput(spec: Extract<OutputSpec, { kind: 'viewer' }>): CaptureOutput {
  const argv = viewerArgv(spec.viewer, spec.binary, spec.title, spec.args);
  let child: ChildProcess;
  try {
    // tshark prints to our stdout/stderr; Wireshark is a window.
    child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'inherit', 'inherit'] });
  } catch (err) {
    throw environmentError(`cannot start ${spec.binary}: ${(err as Error).message}`, 'check the viewer installation');
  }
  const stdin = child.stdin!;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const gate = new ConsumerGate(stdin, () => `${spec.viewer} closed its input`);
  const gone = Promise.race([gate.gone, exited.then((code) => `${spec.viewer} exited (status ${code ?? 'signal'})`)]);
  child.once('error', (err) =>
    gate.destroy(environmentError(`cannot start ${spec.binary}: ${err.message}`, 'check the viewer installation')),
  );
  return {
    description: spec.viewer,
    stream: gate,
    gone,
    commit: async () => undefined,
    finish: async () => {
      await finishGate(gate, stdin);
      // tshark prints the last packets after its input ends; a Wireshark window stays open for the user.
      if (spec.viewer === 'tshark') await exited;
    },
    discard: async () => {
      child.kill('SIGTERM');
    },
  };
}

function finishGate(gate: ConsumerGate, target: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    if (gate.writableFinished) {
      resolve();
      return;
    }
    gate.once('finish', () => {
      if (target.writableFinished || target.destroyed) resolve();
      else target.once('close', () => resolve());
    });
    gate.end();
  }).then(() => undefined);
}

/** Copies every chunk to all outputs; waits for the slowest (backpressure), ends with the first gone. */
function teeOutput(outputs: readonly CaptureOutput[]): CaptureOutput {
  const tee = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      let waiting = 0;
      const done = () => {
        waiting -= 1;
        if (waiting === 0) callback();
      };
      for (const output of outputs) {
        waiting += 1;
        if (output.stream.write(chunk)) done();
        else output.stream.once('drain', done);
      }
      if (outputs.length === 0) callback();
    },
  });
  return {
    description: outputs.map((o) => o.description).join(' + '),
    stream: tee,
    gone: Promise.race(outputs.map((o) => o.gone)),
    commit: async () => {
      await Promise.all(outputs.map((o) => o.commit()));
    },
    finish: async () => {
      await new Promise<void>((resolve) => tee.end(() => resolve()));
      await Promise.all(outputs.map((o) => o.finish()));
    },
    discard: async () => {
      await Promise.all(outputs.map((o) => o.discard()));
    },
  };
}

/** Opens the outputs; a file that cannot be written fails here, before anything is created in the cluster. */
export async function openOutput(specs: readonly OutputSpec[]): Promise<CaptureOutput> {
  if (specs.length === 0) throw usageError('no output', 'give -o FILE, -o -, --wireshark or --tshark');
  const outputs: CaptureOutput[] = [];
  try {
    for (const spec of specs) {
      outputs.push(
        spec.kind === 'file'
          ? await fileOutput(spec.path)
          : spec.kind === 'stdout'
            ? stdoutOutput()
            : viewerOutput(spec),
      );
    }
  } catch (err) {
    await Promise.all(outputs.map((o) => o.discard()));
    throw err;
  }
  return outputs.length === 1 ? outputs[0]! : teeOutput(outputs);
}
