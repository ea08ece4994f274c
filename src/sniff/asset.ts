import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageRootOf } from '../lib/build-info.js';
import { environmentError } from '../lib/errors.js';

export type TcpdumpArch = 'amd64' | 'arm64';

/** `uname -m` → the asset directory's architecture name, or undefined for one we ship no binary for. */
export function archFromUname(machine: string): TcpdumpArch | undefined {
  switch (machine.trim()) {
    case 'x86_64':
    case 'amd64':
      return 'amd64';
    case 'aarch64':
    case 'arm64':
    case 'armv8l':
      return 'arm64';
    default:
      return undefined;
  }
}

/** The asset's key: the same relative path in the source tree, the npm package and a single-executable bundle. */
export const tcpdumpAssetKey = (arch: TcpdumpArch): string => `tcpdump/linux-${arch}/tcpdump`;

/**
 * The static tcpdump for `arch`, as bytes. This is the ONE place that knows where assets live:
 * 1. `NETDIAG_ASSETS_DIR` (tests, packagers);
 * 2. inside a Node single executable application, the SEA asset with the same key (`node:sea` getAsset);
 * 3. `assets/` at the package root (the nearest directory with package.json above this module or the bundle).
 */
export async function loadTcpdumpAsset(arch: TcpdumpArch, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const key = tcpdumpAssetKey(arch);
  if (env.NETDIAG_ASSETS_DIR) return readAsset(path.join(env.NETDIAG_ASSETS_DIR, key), arch);
  const sea = loadSea();
  if (sea?.isSea()) {
    try {
      return Buffer.from(sea.getAsset(key));
    } catch (err) {
      throw missing(arch, `not bundled in this binary (${(err as Error).message})`);
    }
  }
  const packageRoot = packageRootOf(import.meta.url);
  if (packageRoot === undefined) throw missing(arch, 'no package directory around this program');
  return readAsset(path.join(packageRoot, 'assets', key), arch);
}

let digests: Promise<Record<TcpdumpArch, string>> | undefined;

/**
 * SHA-256 (hex) of the static tcpdump per architecture, computed once per process; 'none' for one not shipped, which
 * no file's digest equals. Upload mode reuses a tcpdump left in a container only when its digest is this one.
 */
export function tcpdumpDigests(): Promise<Record<TcpdumpArch, string>> {
  const digest = (arch: TcpdumpArch) =>
    loadTcpdumpAsset(arch).then(
      (bytes) => createHash('sha256').update(bytes).digest('hex'),
      () => 'none',
    );
  digests ??= Promise.all([digest('amd64'), digest('arm64')]).then(([amd64, arm64]) => ({ amd64, arm64 }));
  return digests;
}

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
}

/**
 * `node:sea` without import(): inside the single executable the bundle is compiled by scripts/release/sea-main.cjs,
 * where a dynamic import goes through an experimental loader hook that prints a warning.
 */
function loadSea(): SeaModule | undefined {
  return process.getBuiltinModule('node:sea') as SeaModule | undefined;
}

async function readAsset(file: string, arch: TcpdumpArch): Promise<Buffer> {
  if (!existsSync(file)) throw missing(arch, `${file} does not exist`);
  return readFile(file);
}

function missing(arch: TcpdumpArch, why: string) {
  return environmentError(
    `no static tcpdump for linux/${arch}: ${why}`,
    'build it with scripts/build-tcpdump (or use --mode ephemeral / --mode node)',
  );
}
