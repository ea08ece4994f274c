import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Build tools that do not ship with Node, built once from their registries and cached outside the checkout
 * (`~/.cache/netdiag/release/tools` by default). Builds use one job: the build machine has 2 shared cores.
 */
export const KREW_VERSION = 'v0.5.0';
export const APPLE_CODESIGN_VERSION = '0.29.0';

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `krew` and `validate-krew-manifest` from the Go module proxy, through the module in scripts/release/krew-tool
 * (its go.sum pins every checksum). `go install sigs.k8s.io/krew/cmd/krew@<v>` is not used: the proxy here
 * refuses the module's version list, which `go install pkg@version` asks for.
 */
export async function krewTools(
  repoRoot: string,
  cacheDir: string,
  log: (line: string) => void,
): Promise<{ krew: string; validateKrewManifest: string }> {
  const dir = join(cacheDir, 'tools', `krew-${KREW_VERSION}`);
  const out = { krew: join(dir, 'krew'), validateKrewManifest: join(dir, 'validate-krew-manifest') };
  for (const [pkg, bin] of [
    ['sigs.k8s.io/krew/cmd/krew', out.krew],
    ['sigs.k8s.io/krew/cmd/validate-krew-manifest', out.validateKrewManifest],
  ] as const) {
    if (await executable(bin)) continue;
    log(`building ${pkg}@${KREW_VERSION} (cached in ${dir})`);
    const ldflags = `-s -w -X sigs.k8s.io/krew/internal/version.gitTag=${KREW_VERSION}`;
    await run('go', ['build', '-p', '1', '-trimpath', '-ldflags', ldflags, '-o', bin, pkg], {
      cwd: join(repoRoot, 'scripts', 'release', 'krew-tool'),
      env: { ...process.env, GOMAXPROCS: process.env.GOMAXPROCS ?? '1', GOFLAGS: '-mod=readonly' },
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  return out;
}

/**
 * rcodesign (crates.io `apple-codesign`, without the notarization feature) signs Mach-O binaries ad hoc on
 * Linux. Debian has no ldid; Apple's codesign exists only on macOS.
 */
export async function rcodesign(cacheDir: string, log: (line: string) => void): Promise<string> {
  const root = join(cacheDir, 'tools', `apple-codesign-${APPLE_CODESIGN_VERSION}`);
  const bin = join(root, 'bin', 'rcodesign');
  if (await executable(bin)) return bin;
  log(`building rcodesign (apple-codesign ${APPLE_CODESIGN_VERSION} from crates.io; once, cached in ${root})`);
  await run(
    'cargo',
    [
      'install',
      `apple-codesign@${APPLE_CODESIGN_VERSION}`,
      '--no-default-features',
      '--locked',
      '--jobs',
      process.env.NETDIAG_BUILD_JOBS ?? '1',
      '--root',
      root,
    ],
    { env: { ...process.env, CARGO_TARGET_DIR: join(cacheDir, 'tools', 'cargo-target') }, maxBuffer: 64 * 1024 * 1024 },
  );
  return bin;
}

/** Ad hoc signature (no certificate) with a stable identifier, as `codesign --sign - --identifier` would; checked by binfmt.verifyAdHocSignature. */
export async function adHocSign(rcodesignBin: string, file: string, identifier: string): Promise<void> {
  await run(rcodesignBin, ['sign', '--binary-identifier', identifier, file], { maxBuffer: 16 * 1024 * 1024 });
}
