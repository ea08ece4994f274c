import { execFile } from 'node:child_process';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Whether a path exists (any kind of file). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The node executable of `pkg@version` from the npm registry, cached under `<cacheDir>/node/<pkg>-<version>/`.
 * `npm pack` fetches through npm's own cache and checks the registry's integrity hash; the executable is then
 * taken out of the tarball. Reruns touch neither the network nor the tarball.
 */
export async function nodeBinary(
  cacheDir: string,
  pkg: string,
  version: string,
  binaryInPackage: string,
  log: (line: string) => void,
): Promise<string> {
  const dir = join(cacheDir, 'node', `${pkg}-${version}`);
  const binary = join(dir, binaryInPackage.split('/').pop() ?? 'node');
  if (await exists(binary)) return binary;
  log(`downloading ${pkg}@${version} from the npm registry`);
  const tarballs = join(cacheDir, 'npm');
  await mkdir(tarballs, { recursive: true });
  const tarball = join(tarballs, `${pkg}-${version}.tgz`);
  if (!(await exists(tarball))) {
    await run('npm', ['pack', `${pkg}@${version}`, '--pack-destination', tarballs, '--silent'], {
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  const staging = `${dir}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', staging, binaryInPackage]);
  const extracted = join(staging, binaryInPackage);
  await chmod(extracted, 0o755);
  await mkdir(dir, { recursive: true });
  await rename(extracted, binary);
  await rm(staging, { recursive: true, force: true });
  return binary;
}
