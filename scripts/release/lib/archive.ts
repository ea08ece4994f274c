import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';

const run = promisify(execFile);

/**
 * A reproducible tar.gz of `files` (names relative to `dir`): sorted entries, owner 0:0, a fixed mtime,
 * and a gzip header without name or time (node's zlib writes mtime 0). Krew accepts tar.gz on every OS.
 */
export async function writeTarGz(dir: string, files: readonly string[], out: string, mtime: number): Promise<void> {
  const tar = `${out}.tar`;
  await run('tar', [
    '--create',
    '--file',
    tar,
    '--format=gnu',
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    `--mtime=@${mtime}`,
    '--directory',
    dir,
    ...files,
  ]);
  await pipeline(createReadStream(tar), createGzip({ level: 9 }), createWriteStream(out));
  await rm(tar);
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Names of the entries of a tar.gz, as `tar -t` lists them. */
export async function listTarGz(file: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', file], { maxBuffer: 1024 * 1024 });
  return stdout.split('\n').filter((l) => l !== '');
}
