import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../../../scripts/release/lib/sea.js';

/** The launcher must run Node with the flags the single executable gets. */
const FLAGS = NODE_FLAGS.join(' ');

const repoBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'bin');

/** A package tree with the real launchers, a stand-in dist entry, and optionally no node_modules/node. */
function fakeInstall(options: { bundledNode: boolean; built: boolean }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'netdiag-launcher-'));
  mkdirSync(path.join(root, 'bin', 'lib'), { recursive: true });
  for (const file of ['kubectl-netdiag', 'kubectl_complete-netdiag', 'lib/launch.sh']) {
    copyFileSync(path.join(repoBin, file), path.join(root, 'bin', file));
  }
  if (options.built) {
    mkdirSync(path.join(root, 'dist', 'src', 'cli'), { recursive: true });
    writeFileSync(path.join(root, 'dist', 'kubectl-netdiag.cjs'), '');
    writeFileSync(path.join(root, 'dist', 'src', 'cli', 'complete-cli.js'), '');
  }
  if (options.bundledNode) fakeNode(path.join(root, 'node_modules', 'node', 'bin'), '24.21.0', 'bundled');
  return root;
}

/** A `node` that reports `version` for `-p process.versions.node` and otherwise echoes its arguments. */
function fakeNode(dir: string, version: string, label: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'node');
  writeFileSync(file, `#!/bin/sh\nif [ "$1" = "-p" ]; then echo ${version}; exit 0; fi\necho "${label} node ran $*"\n`);
  chmodSync(file, 0o755);
  return dir;
}

/** Only the tools the launcher needs, so the machine's own `node` (if any) is not on PATH. */
const baseTools = (() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-tools-'));
  for (const tool of ['sh', 'dirname', 'readlink']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, path.join(dir, tool));
  }
  return dir;
})();

function launch(
  executable: string,
  pathDirs: string[],
  args: string[] = ['version'],
  env: Record<string, string> = {},
) {
  const result = spawnSync(executable, args, {
    encoding: 'utf8',
    env: { PATH: [...pathDirs, baseTools].join(':'), ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A built install without a bundled Node, and a Node 24 on PATH (in `dir`) that prints one environment variable. */
function installWithEnvEchoNode(variable: string): { bin: string; dir: string } {
  const root = fakeInstall({ bundledNode: false, built: true });
  const dir = path.join(root, 'env-node');
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, 'node'),
    `#!/bin/sh\nif [ "$1" = "-p" ]; then echo 24.21.0; exit 0; fi\necho "$${variable}"\n`,
  );
  chmodSync(path.join(dir, 'node'), 0o755);
  return { bin: path.join(root, 'bin', 'kubectl-netdiag'), dir };
}

describe('bin/kubectl-netdiag launcher', () => {
  it('prefers the Node 24 in node_modules/node', () => {
    const root = fakeInstall({ bundledNode: true, built: true });
    const other = fakeNode(path.join(root, 'path-node'), '25.0.0', 'path');
    const result = launch(path.join(root, 'bin', 'kubectl-netdiag'), [other]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `bundled node ran ${FLAGS} ${root}/dist/kubectl-netdiag.cjs version\n`);
  });

  it("gives Node a compile cache in the user's cache directory, unless one is set", () => {
    const { bin, dir } = installWithEnvEchoNode('NODE_COMPILE_CACHE');
    assert.equal(
      launch(bin, [dir], [], { HOME: '/home/u' }).stdout,
      '/home/u/.cache/kubectl-netdiag/v8-compile-cache\n',
    );
    assert.equal(launch(bin, [dir], [], { XDG_CACHE_HOME: '/c' }).stdout, '/c/kubectl-netdiag/v8-compile-cache\n');
    assert.equal(launch(bin, [dir], [], { NODE_COMPILE_CACHE: '/mine' }).stdout, '/mine\n');
  });

  it("fixes glibc's mmap threshold, unless one is set", () => {
    const { bin, dir } = installWithEnvEchoNode('MALLOC_MMAP_THRESHOLD_');
    assert.equal(launch(bin, [dir]).stdout, '131072\n');
    assert.equal(launch(bin, [dir], [], { MALLOC_MMAP_THRESHOLD_: '65536' }).stdout, '65536\n');
  });

  it('falls back to node on PATH when it is 22 or newer', () => {
    const root = fakeInstall({ bundledNode: false, built: true });
    const pathNode = fakeNode(path.join(root, 'path-node'), '22.3.0', 'path');
    const result = launch(path.join(root, 'bin', 'kubectl_complete-netdiag'), [pathNode], ['cleanup', '-n', '']);
    assert.equal(result.stdout, `path node ran ${FLAGS} ${root}/dist/src/cli/complete-cli.js cleanup -n \n`);
  });

  it('refuses an older node with one error line and one fix line, exit 3', () => {
    const root = fakeInstall({ bundledNode: false, built: true });
    const oldNode = fakeNode(path.join(root, 'old-node'), '20.20.2', 'old');
    const result = launch(path.join(root, 'bin', 'kubectl-netdiag'), [oldNode]);
    assert.equal(result.status, 3);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines[0], 'error: kubectl-netdiag needs Node.js 22 or newer (found: 20.20.2)');
    assert.match(lines[1] ?? '', /^fix: run `npm ci` in .* or put Node >= 22 first on PATH$/);
  });

  it('says so when there is no node at all', () => {
    const root = fakeInstall({ bundledNode: false, built: true });
    const result = launch(path.join(root, 'bin', 'kubectl-netdiag'), [path.join(root, 'empty')]);
    assert.equal(result.status, 3);
    assert.match(result.stderr, /^error: kubectl-netdiag needs Node\.js 22 or newer \(found: none\)$/m);
  });

  it('works through a symlink (krew, npm link) and reports an unbuilt checkout', () => {
    const root = fakeInstall({ bundledNode: true, built: true });
    const links = path.join(root, 'elsewhere');
    mkdirSync(links);
    symlinkSync(path.join(root, 'bin', 'kubectl-netdiag'), path.join(links, 'kubectl-netdiag'));
    assert.equal(
      launch(path.join(links, 'kubectl-netdiag'), []).stdout,
      `bundled node ran ${FLAGS} ${root}/dist/kubectl-netdiag.cjs version\n`,
    );
    const unbuilt = fakeInstall({ bundledNode: true, built: false });
    const result = launch(path.join(unbuilt, 'bin', 'kubectl-netdiag'), []);
    assert.equal(result.status, 3);
    assert.match(result.stderr, /^error: kubectl-netdiag is not built/m);
    assert.match(result.stderr, /^fix: run `npm ci && npm run build`/m);
  });
});
