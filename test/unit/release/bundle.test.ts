import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { bundleCli, bundledPjson } from '../../../scripts/release/lib/bundle.js';
import { commandModulesFromFiles, commandsIndexSource, listFiles } from '../../../scripts/release/lib/commands.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

describe('command discovery for the bundle', () => {
  it('derives oclif ids the way oclif pattern discovery does', () => {
    const modules = commandModulesFromFiles([
      'version.ts',
      'bw/matrix.ts',
      'dns/index.ts',
      'sniff.ts',
      'types.d.ts',
      'sniff.test.ts',
      'README.md',
    ]);
    assert.deepEqual(modules, [
      { id: 'bw:matrix', file: 'bw/matrix.ts' },
      { id: 'dns', file: 'dns/index.ts' },
      { id: 'sniff', file: 'sniff.ts' },
      { id: 'version', file: 'version.ts' },
    ]);
  });

  it('refuses two files for one id and a root index', () => {
    assert.throws(() => commandModulesFromFiles(['sniff.ts', 'sniff/index.ts']), /defined twice/);
    assert.throws(() => commandModulesFromFiles(['index.ts']), /root index/);
  });

  it('generates one lazy getter per command', () => {
    const source = commandsIndexSource([{ id: 'bw:matrix', file: 'bw/matrix.ts' }], '/src/commands');
    assert.equal(source, 'export const COMMANDS = {\n  get "bw:matrix"() { return require("/src/commands/bw/matrix.ts").default; },\n};\n');
  });

  it('hands oclif the explicit strategy and nothing to discover', () => {
    const pjson = bundledPjson(
      { name: 'kubectl-netdiag', version: '0.0.0', oclif: { commands: './dist/src/commands', plugins: ['@oclif/plugin-x'], devPlugins: ['y'] } },
      '1.2.3',
    );
    assert.deepEqual(pjson.oclif, {
      commands: { strategy: 'explicit', target: 'netdiag:commands', identifier: 'COMMANDS' },
      bin: 'kubectl netdiag',
    });
    assert.equal(pjson.version, '1.2.3');
    assert.throws(() => bundledPjson({ oclif: { hooks: { init: './x.js' } } }, '1.0.0'), /hooks/);
  });
});

describe('bundled CLI', { timeout: 120_000 }, () => {
  let dir = '';
  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('bundles src/commands into one CommonJS file that runs on this Node without node_modules', async () => {
    dir = await mkdtemp(join(tmpdir(), 'netdiag-bundle-'));
    const outfile = join(dir, 'kubectl-netdiag.cjs');
    const result = await bundleCli({ repoRoot, outfile, version: '9.8.7' });
    const expected = commandModulesFromFiles(await listFiles(join(repoRoot, 'src', 'commands'))).map((c) => c.id);
    assert.deepEqual(
      result.commands.map((c) => c.id),
      expected,
    );
    assert.ok(expected.includes('version'));
    const source = await readFile(outfile, 'utf8');
    assert.doesNotMatch(source, /require\("(@oclif|@kubernetes|yaml|ws)/, 'dependencies are inside the bundle');
    // Run it from an empty directory with an empty environment: nothing may be found on disk.
    const env = { PATH: '/nonexistent', HOME: dir };
    const version = await run(process.execPath, [outfile, '--version'], { cwd: dir, env });
    assert.match(version.stdout, /^kubectl-netdiag\/9\.8\.7 /);
    const help = await run(process.execPath, [outfile, '--help'], { cwd: dir, env });
    assert.match(help.stdout, /\$ kubectl netdiag \[COMMAND\]/);
    for (const id of expected) assert.match(help.stdout, new RegExp(`^  ${id.split(':')[0]}\\s`, 'm'), id);
    const client = await run(process.execPath, [outfile, 'version', '--client', '-o', 'json'], { cwd: dir, env });
    assert.equal((JSON.parse(client.stdout) as { client: { version: string } }).client.version, '9.8.7');
    // The first localeCompare of a process loads ICU's collation data (~5 ms and ~3 MiB): the start must not.
    const collation = join(dir, 'report-collation.cjs');
    await writeFile(
      collation,
      'const c = String.prototype.localeCompare;\n' +
        'String.prototype.localeCompare = function (...a) { process.stderr.write("localeCompare\\n"); return c.apply(this, a); };\n',
    );
    const traced = await run(process.execPath, ['--require', collation, outfile, 'version', '--client'], { cwd: dir, env });
    assert.match(traced.stdout, /Client Version: 9\.8\.7/);
    assert.doesNotMatch(traced.stderr, /localeCompare/);
    await assert.rejects(
      run(process.execPath, [outfile, 'no-such-command'], { cwd: dir, env }),
      (err: { code?: number; stderr?: string }) => {
        assert.notEqual(err.code, 0);
        assert.match(err.stderr ?? '', /^error: .*no-such-command/m, 'rendered as error/fix lines');
        return true;
      },
    );
  });
});
