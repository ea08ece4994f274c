import { execFile } from 'node:child_process';
import { chmod, copyFile, readFile, writeFile } from 'node:fs/promises';
import Module, { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

import { SEA_FUSE, inspectExecutable, seaFuseState, stripAuthenticode, verifyAdHocSignature } from './binfmt.js';
import type { Platform } from './platforms.js';

const run = promisify(execFile);

interface Postject {
  inject(
    file: string,
    resource: string,
    data: Buffer,
    options: { sentinelFuse: string; machoSegmentName?: string; overwrite?: boolean },
  ): Promise<void>;
}
const postject = createRequire(import.meta.url)('postject') as Postject;

export interface SeaConfig {
  main: string;
  output: string;
  disableExperimentalSEAWarning: true;
  useSnapshot: false;
  useCodeCache: boolean;
  execArgv: string[];
  assets: Record<string, string>;
}

/**
 * Node flags of every run, here and in bin/lib/launch.sh (a unit test keeps the two equal). A 1 MiB young
 * generation keeps a long capture's RSS flat and low: the stream allocates a buffer per websocket frame and
 * V8 otherwise grows the semi-space to 16 MiB (measured on a 700 MiB capture: 180 → 119 MiB peak, same
 * throughput). `--expose-gc` lets a streaming exec collect its dead socket reads as it goes (src/kube/channel-socket.ts).
 * Node runtimes older than 24.6 ignore execArgv in the SEA config.
 */
export const NODE_FLAGS = ['--max-semi-space-size=1', '--expose-gc'];

/**
 * sea-config.json for one platform. The V8 code cache is only valid for the V8 build and CPU that made it, so it
 * is used only when the blob is made by the very Node binary that will run it (the host platform). It covers only
 * the small main script; the bundle's cache is the `cli.cache` asset ({@link buildSea}).
 */
export function seaConfig(main: string, output: string, assets: Record<string, string>, codeCache: boolean): SeaConfig {
  return {
    main,
    output,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: codeCache,
    execArgv: [...NODE_FLAGS],
    assets,
  };
}

export interface SeaBuild {
  readonly platform: Platform;
  /** The target platform's node executable (from the npm registry). */
  readonly nodeBinary: string;
  /** A node of the same version that runs here and writes the blob. */
  readonly blobNode: string;
  /** The binary runs here with the very Node that wrote the blob: it can write its own code cache. */
  readonly codeCache: boolean;
  /** The main script (scripts/release/sea-main.cjs): compiles the bundle (asset `cli.cjs`) with its code cache. */
  readonly loader: string;
  readonly bundle: string;
  readonly assets: Record<string, string>;
  readonly workDir: string;
  readonly output: string;
  /** Ad hoc signs a Mach-O in place. */
  readonly signMachO: (file: string) => Promise<void>;
}

const BUNDLE_ASSET = 'cli.cjs';
const CODE_CACHE_ASSET = 'cli.cache';
/** The run whose compiled functions go into the code cache: the start every command shares. */
const CODE_CACHE_RUN = ['version', '--client'];

/**
 * One single executable: blob from the loader, the bundle and the assets, a copy of the platform's node, the blob
 * injected with postject, Authenticode removed on Windows, ad hoc signature on macOS; then the result is checked.
 * With `codeCache`, the binary is built twice: the first one runs {@link CODE_CACHE_RUN} and writes the V8 code
 * cache of what it compiled, the second carries that cache, and must report it accepted.
 */
export async function buildSea(b: SeaBuild): Promise<{ blobBytes: number }> {
  const wrapped = join(b.workDir, BUNDLE_ASSET);
  await writeFile(wrapped, Module.wrap(await readFile(b.bundle, 'utf8')));
  const assets = { ...b.assets, [BUNDLE_ASSET]: wrapped };
  if (!b.codeCache) return injectBlob(b, assets);
  await injectBlob(b, assets);
  const cacheFile = join(b.workDir, CODE_CACHE_ASSET);
  await run(b.output, CODE_CACHE_RUN, { env: { ...process.env, NETDIAG_SEA_WRITE_CODE_CACHE: cacheFile } });
  const built = await injectBlob(b, { ...assets, [CODE_CACHE_ASSET]: cacheFile });
  try {
    await run(b.output, CODE_CACHE_RUN, { env: { ...process.env, NETDIAG_SEA_CHECK_CODE_CACHE: '1' } });
  } catch (err) {
    throw new Error(`${b.output}: V8 refused the code cache its own run wrote: ${(err as { stderr?: string }).stderr}`);
  }
  return built;
}

async function injectBlob(b: SeaBuild, assets: Record<string, string>): Promise<{ blobBytes: number }> {
  const blob = join(b.workDir, 'sea-prep.blob');
  const configFile = join(b.workDir, 'sea-config.json');
  // `main` is recorded in the blob as given: a name in the work directory, so the blob (and the archive) does not
  // depend on where the release was built.
  await copyFile(b.loader, join(b.workDir, basename(b.loader)));
  await writeFile(configFile, JSON.stringify(seaConfig(basename(b.loader), blob, assets, b.codeCache), null, 2));
  // V8 refuses a code cache made under other flags (`--expose-gc` is part of its check; the executable then warns
  // "Code cache data rejected" on every run), so the blob is written under the flags the executable runs with.
  await run(b.blobNode, [...NODE_FLAGS, '--experimental-sea-config', configFile], { cwd: b.workDir });
  const blobBytes = await readFile(blob);
  let executable: Buffer = await readFile(b.nodeBinary);
  if (b.platform.format === 'pe') executable = stripAuthenticode(executable);
  await writeFile(b.output, executable);
  await chmod(b.output, 0o755);
  await postject.inject(b.output, 'NODE_SEA_BLOB', blobBytes, {
    sentinelFuse: SEA_FUSE,
    overwrite: true,
    ...(b.platform.format === 'macho' ? { machoSegmentName: 'NODE_SEA' } : {}),
  });
  if (b.platform.format === 'macho') await b.signMachO(b.output);
  await checkExecutable(b.output, b.platform, blobBytes);
  return { blobBytes: blobBytes.length };
}

/** The binary is the platform's format and CPU, carries the blob, has the fuse flipped, and (macOS) is signed. */
export async function checkExecutable(file: string, platform: Platform, blob?: Buffer): Promise<void> {
  const bytes = await readFile(file);
  const info = inspectExecutable(bytes);
  const where = `${file} (${platform.os}/${platform.arch})`;
  if (info.format !== platform.format) throw new Error(`${where}: ${info.format}, expected ${platform.format}`);
  if (info.arch !== platform.arch) throw new Error(`${where}: CPU ${info.arch}, expected ${platform.arch}`);
  if (seaFuseState(bytes) !== 'injected') throw new Error(`${where}: the SEA fuse is not set`);
  if (blob !== undefined && bytes.indexOf(blob) < 0) throw new Error(`${where}: the SEA blob is not in the binary`);
  if (platform.format === 'macho') {
    const identifier = verifyAdHocSignature(bytes);
    if (identifier !== 'kubectl-netdiag') throw new Error(`${where}: signed as ${identifier}`);
  }
  if (platform.format === 'pe' && info.signed) throw new Error(`${where}: stale Authenticode signature`);
}
