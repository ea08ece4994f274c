/**
 * Upload mode keeps its tcpdump in the target container for the next capture (UPLOAD_KEEP_SECONDS after the last
 * one; the upload's own watchdog removes it then). This client remembers where it left one, in a small JSON file of
 * its state directory, so `kubectl netdiag cleanup` can remove them sooner: only these directories, only in the
 * containers this client uploaded to.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubeClient } from '../kube/client.js';
import { execCapture } from '../kube/exec.js';
import { UPLOAD_DIR_NAME } from './tcpdump.js';

export interface KeptUpload {
  /** The kubeconfig context it was made through (cleanup only touches those of its own context). */
  readonly context: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly dir: string;
  /** When its watchdog removes it by itself at the latest (ISO 8601). */
  readonly keptUntil: string;
}

/** `$XDG_STATE_HOME/kubectl-netdiag/uploads.json`, else `~/.local/state/kubectl-netdiag/uploads.json`. Pure. */
export function keptUploadsFile(env: NodeJS.ProcessEnv, home: string): string {
  const base = env.XDG_STATE_HOME ? env.XDG_STATE_HOME : path.join(home, '.local', 'state');
  return path.join(base, 'kubectl-netdiag', 'uploads.json');
}

const sameContainer = (a: KeptUpload, b: KeptUpload) =>
  a.context === b.context && a.namespace === b.namespace && a.pod === b.pod && a.container === b.container;

/** The list with `entry` in it (replacing the one of the same container) and without those already expired. Pure. */
export function rememberIn(list: readonly KeptUpload[], entry: KeptUpload, now: Date): KeptUpload[] {
  return [...list.filter((e) => !sameContainer(e, entry) && Date.parse(e.keptUntil) > now.getTime()), entry];
}

/** Entries read from the file's text; anything malformed is ignored (the file is a cache, not a record). Pure. */
export function parseKeptUploads(text: string): KeptUpload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (e): e is KeptUpload =>
      typeof e === 'object' &&
      e !== null &&
      ['context', 'namespace', 'pod', 'container', 'dir', 'keptUntil'].every(
        (key) => typeof (e as Record<string, unknown>)[key] === 'string',
      ) &&
      path.posix.basename((e as KeptUpload).dir) === UPLOAD_DIR_NAME,
  );
}

export async function readKeptUploads(file: string): Promise<KeptUpload[]> {
  return parseKeptUploads(await readFile(file, 'utf8').catch(() => '[]'));
}

export async function writeKeptUploads(file: string, list: readonly KeptUpload[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, `${JSON.stringify(list, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
}

export async function rememberUpload(file: string, entry: KeptUpload, now = new Date()): Promise<void> {
  await writeKeptUploads(file, rememberIn(await readKeptUploads(file), entry, now));
}

/** Removes a kept upload from its container: 'removed', 'already gone' (pod or container gone), or an error. */
export async function removeKeptUpload(
  client: KubeClient,
  entry: KeptUpload,
  signal: AbortSignal,
): Promise<'removed' | 'already gone'> {
  let gone = false;
  const pod = await client
    .readPod(entry.namespace, entry.pod, {
      signal,
      onFailure: (failure) => {
        gone = failure.kind === 'not-found';
        return undefined;
      },
    })
    .catch((err: unknown) => {
      if (!gone) throw err;
      return undefined;
    });
  const running = pod?.status?.containerStatuses?.some((c) => c.name === entry.container && c.state?.running);
  if (!running) return 'already gone';
  const run = await execCapture(client, {
    namespace: entry.namespace,
    pod: entry.pod,
    container: entry.container,
    command: ['rm', '-rf', entry.dir],
    signal,
  });
  if (run.exitCode !== 0) throw new Error(`rm -rf ${entry.dir} exited ${run.exitCode}: ${run.stderr.trim()}`);
  return 'removed';
}

export interface KeptUploadOutcome {
  readonly entry: KeptUpload;
  readonly result: 'removed' | 'already gone' | 'failed';
  readonly error?: string;
}

/**
 * Removes the kept uploads this client noted for `context` (in `namespace`, or all with undefined) and forgets
 * those it removed or found gone; failed ones stay noted for the next cleanup.
 */
export async function cleanUpKeptUploads(
  client: KubeClient,
  file: string,
  scope: { readonly context: string; readonly namespace: string | undefined },
  signal: AbortSignal,
): Promise<KeptUploadOutcome[]> {
  const all = await readKeptUploads(file);
  const mine = all.filter((e) => e.context === scope.context && (scope.namespace ?? e.namespace) === e.namespace);
  if (mine.length === 0) return [];
  const outcomes = await Promise.all(
    mine.map(async (entry): Promise<KeptUploadOutcome> => {
      try {
        return { entry, result: await removeKeptUpload(client, entry, signal) };
      } catch (err) {
        return { entry, result: 'failed', error: (err as Error).message };
      }
    }),
  );
  const done = new Set(outcomes.filter((o) => o.result !== 'failed').map((o) => o.entry));
  await writeKeptUploads(
    file,
    all.filter((e) => !done.has(e)),
  );
  return outcomes;
}
