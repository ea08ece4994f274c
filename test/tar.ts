/**
 * Reading back a .tar.gz that a command wrote (node's and doctor's `--bundle`), for unit and e2e tests alike: one
 * reader, so every test sees a bundle the same way.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';

/** The entries of a .tar.gz: name → content (UTF-8). */
export async function readTarGz(file: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      files.set(header.name, Buffer.concat(chunks).toString('utf8'));
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => reader.on('finish', () => resolve()).on('error', reject));
  reader.end(gunzipSync(readFileSync(file)));
  await done;
  return files;
}
