/**
 * The release as a user gets it: the archives and manifest that `npm run release` makes, installed with a real
 * krew (built from the Go module proxy, cached) into a temporary KREW_ROOT, then run through kubectl with no
 * `node` on PATH against the cluster in KUBECONFIG (the lab). The four non-Linux/amd64 binaries cannot run here;
 * they are checked for format, CPU, SEA blob and (macOS) a valid ad hoc signature, and krew's own
 * validate-krew-manifest installs every platform's archive from a local HTTP server.
 *
 * NETDIAG_RELEASE_DIR=<dir> reuses a release built earlier (`npm run release -- --out <dir>`); by default the
 * test builds one into a temporary directory (about two minutes with a warm cache).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { parse as parseYaml } from 'yaml';

import { listTarGz } from '../../scripts/release/lib/archive.js';
import { validateArchiveEntries, validateManifest } from '../../scripts/release/lib/krew-validate.js';
import { renderManifest } from '../../scripts/release/lib/manifest.js';
import { PLATFORMS, archiveName, platformId } from '../../scripts/release/lib/platforms.js';
import { checkExecutable } from '../../scripts/release/lib/sea.js';
import { krewTools } from '../../scripts/release/lib/tools.js';
import {
  createNamespace,
  deleteNamespace,
  dnsLoopPod,
  env as clusterEnv,
  haveCluster,
  kubectlOk,
  managedPods,
  repoRoot,
  waitPodsReady,
} from './sniff.support.js';

const run = promisify(execFile);
const VERSION = 'v0.1.0';
const work = mkdtempSync(path.join(tmpdir(), 'netdiag-krew-e2e-'));
const cacheDir = path.join(process.env.NETDIAG_CACHE_DIR ?? path.join(homedir(), '.cache', 'netdiag'), 'release');
let releaseDir = process.env.NETDIAG_RELEASE_DIR ?? '';
let tools: { krew: string; validateKrewManifest: string };
/** kubectl and kubectl-krew only: what a user without Node has. */
const toolBin = path.join(work, 'bin');
const krewRoot = path.join(work, 'krew-root');
const userPath = [path.join(krewRoot, 'bin'), toolBin].join(path.delimiter);

function kubectlAsUser(args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) {
  const result = spawnSync('kubectl', args, {
    env: { PATH: userPath, HOME: work, KREW_ROOT: krewRoot, KUBECONFIG: clusterEnv.KUBECONFIG, ...extraEnv },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function which(name: string, searchPath: string): string | undefined {
  return searchPath
    .split(path.delimiter)
    .map((dir) => path.join(dir, name))
    .find((file) => existsSync(file));
}

before(async () => {
  tools = await krewTools(repoRoot, cacheDir, (line) => process.stderr.write(`${line}\n`));
  if (releaseDir === '') {
    releaseDir = path.join(work, 'release');
    await run(
      'bash',
      [path.join(repoRoot, 'scripts', 'release', 'release'), '--version', VERSION, '--out', releaseDir],
      {
        cwd: repoRoot,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 3_600_000,
      },
    );
  }
  mkdirSync(toolBin, { recursive: true });
  const kubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(kubectl, path.join(toolBin, 'kubectl'));
  symlinkSync(tools.krew, path.join(toolBin, 'kubectl-krew'));
});

after(() => rmSync(work, { recursive: true, force: true }));

describe('release archives', { timeout: 3_600_000 }, () => {
  it('holds, per platform, the executable for that OS and CPU with the SEA blob, and a LICENSE', async () => {
    for (const platform of PLATFORMS) {
      const archive = path.join(releaseDir, archiveName(VERSION, platform));
      const entries = await listTarGz(archive);
      assert.deepEqual(validateArchiveEntries(entries, platform.bin), [], archive);
      const dir = path.join(work, 'extract', `${platform.os}_${platform.arch}`);
      mkdirSync(dir, { recursive: true });
      await run('tar', ['-xzf', archive, '-C', dir]);
      await checkExecutable(path.join(dir, platform.bin), platform);
      const sums = readFileSync(path.join(releaseDir, 'SHA256SUMS'), 'utf8');
      const digest = spawnSync('sha256sum', [archive], { encoding: 'utf8' }).stdout.split(' ')[0];
      assert.ok(sums.includes(`${digest}  ${archiveName(VERSION, platform)}`), `${platformId(platform)} in SHA256SUMS`);
    }
  });

  it('the linux/arm64 executable runs under qemu-aarch64-static: version --client', async () => {
    const arm64 = PLATFORMS.find((p) => p.os === 'linux' && p.arch === 'arm64')!;
    const binary = path.join(work, 'extract', 'linux_arm64', arm64.bin);
    assert.ok(existsSync(binary), `${binary} extracted by the test above`);
    // User-mode emulation runs V8's arm64 code instruction by instruction: slow, but it runs the real binary. Node
    // is linked against glibc and libstdc++: their arm64 builds (Debian's *-arm64-cross, scripts/setup) are in -L.
    const { stdout } = await run(
      'qemu-aarch64-static',
      ['-L', '/usr/aarch64-linux-gnu', binary, 'version', '--client', '-o', 'json'],
      { timeout: 300_000 },
    );
    const client = (JSON.parse(stdout) as { client: { version: string; platform: string } }).client;
    assert.equal(client.version, VERSION.slice(1));
    assert.equal(client.platform, 'linux/arm64', 'Node reports the emulated CPU');
  });

  it("passes krew's validate-krew-manifest, which installs every platform's archive", async () => {
    const server: Server = createServer((req, res) => {
      const file = path.join(releaseDir, path.basename(decodeURIComponent(req.url ?? '/')));
      if (!existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const sums = new Map(
        readFileSync(path.join(releaseDir, 'SHA256SUMS'), 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split(/\s+/).reverse() as [string, string]),
      );
      const template = readFileSync(path.join(repoRoot, 'krew-manifest', 'netdiag.yaml'), 'utf8');
      const manifest = renderManifest(template, {
        version: VERSION,
        baseUrl: `http://127.0.0.1:${port}`,
        sha256: sums,
      });
      const file = path.join(work, 'index', 'netdiag.yaml');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, manifest);
      const result = await run(tools.validateKrewManifest, ['-manifest', file], {
        env: { PATH: `${toolBin}${path.delimiter}/usr/bin${path.delimiter}/bin`, HOME: work },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 900_000,
      });
      assert.match(result.stdout + result.stderr, /all 5 spec\.platforms installed fine/);
    } finally {
      server.close();
    }
  });

  it('ships a plugin.yaml that our validator and the archives agree on', () => {
    const manifest = parseYaml(readFileSync(path.join(releaseDir, 'plugin.yaml'), 'utf8')) as {
      spec: { platforms: { uri: string; sha256: string }[] };
    };
    assert.deepEqual(validateManifest(manifest, 'netdiag.yaml').errors, []);
    const sums = readFileSync(path.join(releaseDir, 'SHA256SUMS'), 'utf8');
    for (const p of manifest.spec.platforms) assert.ok(sums.includes(`${p.sha256}  ${p.uri.split('/').pop()}`), p.uri);
  });
});

describe('kubectl krew install, then kubectl netdiag without Node', { timeout: 900_000 }, () => {
  let ns = '';

  before(() => {
    const archive = path.join(releaseDir, archiveName(VERSION, { os: 'linux', arch: 'amd64' }));
    const install = kubectlAsUser([
      'krew',
      'install',
      `--manifest=${path.join(releaseDir, 'plugin.yaml')}`,
      `--archive=${archive}`,
    ]);
    assert.equal(install.status, 0, install.stderr);
    assert.match(install.stderr + install.stdout, /Installed plugin: netdiag/);
  });

  after(() => {
    if (ns !== '') deleteNamespace(ns);
  });

  it('runs with no node on PATH', () => {
    assert.equal(which('node', userPath), undefined, `no node on ${userPath}`);
    assert.ok(existsSync(path.join(krewRoot, 'bin', 'kubectl-netdiag')));
    const version = kubectlAsUser(['netdiag', 'version', '--client', '-o', 'json']);
    assert.equal(version.status, 0, version.stderr);
    const client = (JSON.parse(version.stdout) as { client: { version: string; commit: string; node: string } }).client;
    assert.equal(client.version, VERSION.slice(1));
    assert.match(client.commit, /^[0-9a-f]{12}$/, 'commit from build-info.json in the archive');
    const help = kubectlAsUser(['netdiag', '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /\$ kubectl netdiag \[COMMAND\]/);
  });

  it('asks the lab for its version', () => {
    assert.ok(haveCluster(), `no cluster reachable with KUBECONFIG=${clusterEnv.KUBECONFIG}`);
    const version = kubectlAsUser(['netdiag', 'version']);
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /Server Version: v1\.\d+/);
  });

  it('captures 3 s of a pod into a pcap, with the default mode and with the tcpdump carried in the binary', () => {
    assert.ok(haveCluster(), `no cluster reachable with KUBECONFIG=${clusterEnv.KUBECONFIG}`);
    ns = createNamespace('netdiag-krew');
    kubectlOk(['apply', '-f', '-'], dnsLoopPod(ns, 'dnsloop'));
    waitPodsReady(ns, 'app=dnsloop', 1);
    for (const mode of ['auto', 'upload']) {
      const file = path.join(work, `sniff-${mode}.pcap`);
      const sniff = kubectlAsUser(
        ['netdiag', 'sniff', 'dnsloop', '-n', ns, '--mode', mode, '-f', 'port 53', '--duration', '3s', '-o', file],
        {},
        300_000,
      );
      assert.equal(sniff.status, 0, `--mode ${mode}: ${sniff.stderr}`);
      assert.match(sniff.stderr, mode === 'upload' ? /^upload mode \(requested\): /m : /^ephemeral mode: /m);
      // Regression: the bundled pcap-parser once made every capture print a DEP0005 DeprecationWarning.
      assert.doesNotMatch(sniff.stderr, /\(node:\d+\)|DeprecationWarning/, `--mode ${mode}: no Node runtime warning`);
      const bytes = readFileSync(file);
      assert.equal(bytes.readUInt32LE(0), 0xa1b2c3d4, `--mode ${mode}: classic pcap`);
      assert.ok(bytes.length > 24 + 16, `--mode ${mode}: at least one packet (DNS loop every 0.5 s)`);
    }
    assert.deepEqual(managedPods(), [], 'no netdiag helper pod is left');
  });
});
