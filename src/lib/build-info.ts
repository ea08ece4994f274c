/**
 * Version facts for `kubectl netdiag version`. The commit comes from `build-info.json` at the package root when a
 * release build wrote one ({"commit": "<sha>"}), else from git when running from a checkout, else "unknown".
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ClientVersion {
  readonly version: string;
  readonly commit: string;
  readonly node: string;
  readonly platform: string;
}

export function readCommit(packageRoot: string): string {
  const file = path.join(packageRoot, 'build-info.json');
  if (existsSync(file)) {
    try {
      const info = JSON.parse(readFileSync(file, 'utf8')) as { commit?: unknown };
      if (typeof info.commit === 'string' && info.commit.length > 0) return info.commit;
    } catch {
      // A damaged build-info.json falls through to git, then "unknown": version must always answer.
    }
  }
  if (existsSync(path.join(packageRoot, '.git'))) {
    try {
      return execFileSync('git', ['-C', packageRoot, 'rev-parse', '--short=12', 'HEAD'], {
        encoding: 'utf8',
        timeout: 3000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return 'unknown';
    }
  }
  return 'unknown';
}

export function clientVersion(packageRoot: string, packageVersion: string): ClientVersion {
  return {
    version: packageVersion,
    commit: readCommit(packageRoot),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
}

/**
 * The package root: the nearest directory at or above the module at `moduleUrl` that holds package.json (from
 * dist/src/** as well as from the bundle dist/kubectl-netdiag.cjs); undefined for a bundle copied elsewhere.
 */
export function packageRootOf(moduleUrl: string): string | undefined {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
