/**
 * A file a command writes (`sniff -o FILE`, bundles, reports) that the command owns only as far as it created it.
 *
 * - A path that did not exist is created (exclusively, so it really is ours) when the output opens, and removed by
 *   {@link OwnedFile.abandon} when the run ends without content.
 * - An existing regular file is opened without truncation (so an unwritable one fails before any work starts) and is
 *   truncated only at {@link OwnedFile.commit}, when the content is known to be wanted; abandoned, it keeps every
 *   byte it had. It is rewritten in place, like `tcpdump -w` does: owner, mode and hard links stay.
 * - Anything else (a character device such as /dev/null, a FIFO) is written to as it is: never truncated, removed or
 *   renamed. A socket cannot be opened and fails at open.
 *
 * Bytes written before `commit()` are held in memory and written at commit; `finish()` commits, so a writer that
 * produces its whole content and then finishes needs no commit of its own.
 */
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { lstat, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { environmentError } from './errors.js';

/** What the path was when the output opened: it decides what may be done to it. */
export type OwnedFileKind = 'created' | 'existing' | 'special';

/** Classifies a path by what stat says about it (symbolic links followed, as open follows them). Pure. */
export function ownedFileKind(stats: { isFile(): boolean } | undefined): OwnedFileKind {
  if (stats === undefined) return 'created';
  return stats.isFile() ? 'existing' : 'special';
}

/** Most a writer may write before commit(); past it, the write fails (a caller that never commits is a bug). */
export const MAX_HELD_BYTES = 16 * 1024 * 1024;

export interface OwnedFile {
  readonly path: string;
  readonly kind: OwnedFileKind;
  /** Bytes in, with backpressure once committed. */
  readonly stream: Writable;
  /** The content is wanted: truncates an existing file, writes what was held; later writes go straight through. */
  commit(): Promise<void>;
  /** Commits, ends the stream and resolves when the file is closed. */
  finish(): Promise<void>;
  /** The run produced nothing: a created path is removed, anything else is left exactly as it was. Idempotent. */
  abandon(): Promise<void>;
}

/**
 * Opens `path` for writing under the rules above; rejects (exit 3, `fix` as the fix line) when it cannot be written.
 */
export async function openOwnedFile(path: string, fix = 'pick a writable path'): Promise<OwnedFile> {
  const cannotWrite = (path: string, err: Error) => environmentError(`cannot write ${path}: ${err.message}`, fix);
  const before = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw cannotWrite(path, err);
  });
  const kind = ownedFileKind(before);
  let handle: FileHandle;
  try {
    // O_EXCL: a path that appeared since stat is not ours to remove later. O_NOCTTY: a terminal device path must
    // not become our controlling terminal. Never O_TRUNC: truncation waits for commit().
    handle = await open(
      path,
      kind === 'created'
        ? constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL
        : constants.O_WRONLY | constants.O_NOCTTY,
      0o666,
    );
  } catch (err) {
    throw cannotWrite(path, err as Error);
  }
  const identity = await handle.stat();
  return new OwnedFileWriter(path, kind, handle, identity);
}

class OwnedFileWriter implements OwnedFile {
  readonly stream: Writable;
  private held: Buffer[] | undefined = [];
  private heldBytes = 0;
  private file: WriteStream | undefined;
  private committing: Promise<void> | undefined;
  private abandoned = false;

  constructor(
    readonly path: string,
    readonly kind: OwnedFileKind,
    private readonly handle: FileHandle,
    private readonly identity: { dev: number; ino: number },
  ) {
    this.stream = new Writable({
      highWaterMark: 256 * 1024,
      write: (chunk: Buffer, _encoding, callback) => this.write(chunk, callback),
      // 'finish' of this stream means the file is closed: everything is on disk or with the reader.
      final: (callback) => {
        this.commit()
          .then(() => {
            this.file!.once('close', () => callback());
            this.file!.end();
          })
          .catch((err: Error) => callback(err));
      },
    });
  }

  private write(chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (this.file !== undefined) {
      if (this.file.write(chunk)) callback();
      else this.file.once('drain', () => callback());
      return;
    }
    if (this.heldBytes + chunk.length > MAX_HELD_BYTES) {
      callback(new Error(`${this.path}: more than ${MAX_HELD_BYTES} bytes written before commit()`));
      return;
    }
    this.held!.push(chunk);
    this.heldBytes += chunk.length;
    callback();
  }

  commit(): Promise<void> {
    if (this.abandoned) return Promise.reject(new Error(`${this.path}: commit after abandon`));
    this.committing ??= (async () => {
      // Only a regular file has content to replace; truncating a device or FIFO means nothing (or fails).
      if (this.kind === 'existing') await this.handle.truncate(0);
      this.file = createWriteStream('', {
        fd: this.handle,
        // Positional writes from 0 on a regular file; a device or FIFO has no position (ESPIPE).
        ...(this.kind === 'special' ? {} : { start: 0 }),
        highWaterMark: 256 * 1024,
      });
      // Errors surface through the writes and end(); this keeps an early one from being unhandled.
      this.file.on('error', (err) => this.stream.destroy(err));
      const held = this.held ?? [];
      this.held = undefined;
      for (const chunk of held) this.file.write(chunk);
    })();
    return this.committing;
  }

  finish(): Promise<void> {
    if (!this.stream.writableEnded) this.stream.end();
    return finished(this.stream);
  }

  async abandon(): Promise<void> {
    if (this.abandoned) return;
    this.abandoned = true;
    this.held = [];
    this.stream.destroy();
    if (this.file !== undefined) this.file.destroy();
    else await this.handle.close().catch(() => undefined);
    if (this.kind !== 'created') return;
    // Remove only the file this run created: the path may have been replaced since (by the user, by another run).
    const now = await lstat(this.path).catch(() => undefined);
    if (now !== undefined && now.dev === this.identity.dev && now.ino === this.identity.ino) {
      await unlink(this.path).catch(() => undefined);
    }
  }
}
