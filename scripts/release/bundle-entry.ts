/**
 * THE entry point of the CLI, bundled by scripts/release/lib/bundle.ts: the main script of the single executable,
 * and dist/kubectl-netdiag.cjs, which bin/kubectl-netdiag runs (`npm run build` makes it).
 *
 * oclif normally finds its package.json, plugins, hooks, manifest and command files on disk. A single
 * executable has no such files, so everything is handed in through virtual modules that
 * scripts/release/lib/bundle.ts generates at build time:
 * - `netdiag:pjson`: package.json's content, discovery pinned to the explicit strategy, plugins/hooks removed;
 * - `netdiag:commands`: `{ id: CommandClass }` for every file under src/commands, each a lazy getter, so a
 *   command's module graph (e.g. the Kubernetes client) is evaluated only when that command runs;
 * - `netdiag:manifest`: oclif's manifest (ids, flags, descriptions) computed by a first build of this bundle
 *   (`NETDIAG_EMIT_OCLIF_MANIFEST=1`), so help and command lookup need no command module at all.
 */
import { enableCompileCache } from 'node:module';
import { dirname } from 'node:path';
import { isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';

import { Plugin } from '@oclif/core/config';
import { flush } from '@oclif/core/flush';
import { run } from '@oclif/core/run';
import type * as Interfaces from '@oclif/core/interfaces';
import { COMMANDS } from 'netdiag:commands';
import { MANIFEST } from 'netdiag:manifest';
import { PJSON } from 'netdiag:pjson';

import { packageRootOf } from '../../src/lib/build-info.js';
import { reportError } from '../../src/lib/output.js';

/** The two private members of oclif's Plugin that the explicit strategy goes through. */
interface PluginInternals {
  commandCache?: Record<string, unknown>;
  _manifest: () => Promise<Interfaces.Manifest>;
}

async function loadRootPlugin(root: string, pjson: Interfaces.PJSON): Promise<Plugin> {
  const plugin = new Plugin({ ignoreManifest: true, isRoot: true, pjson, root });
  const internals = plugin as unknown as PluginInternals;
  internals.commandCache = COMMANDS;
  const manifest = MANIFEST as Interfaces.Manifest | null;
  if (manifest !== null) {
    internals._manifest = async () => {
      plugin.commandIDs = Object.keys(manifest.commands);
      return manifest;
    };
  }
  await plugin.load();
  const expected = Object.keys(COMMANDS).sort().join(',');
  const loaded = [...plugin.commandIDs].sort().join(',');
  if (expected !== loaded) throw new Error(`bundled commands: expected ${expected}, oclif loaded ${loaded}`);
  return plugin;
}

/** oclif run, then every error that reaches the top rendered as `error:` / `fix:` lines with its exit code. */
async function main(argv: readonly string[]): Promise<void> {
  // A single executable carries its own V8 code cache; run by node, the bundle uses the on-disk compile cache.
  if (!isSea()) enableCompileCache();
  try {
    // The package root holds build-info.json (the release archive puts it next to the executable; a checkout has
    // git instead) and assets/ outside a single executable; oclif reads nothing else from it.
    const root = isSea()
      ? dirname(process.execPath)
      : (packageRootOf(import.meta.url) ?? dirname(fileURLToPath(import.meta.url)));
    const pjson = PJSON as Interfaces.PJSON;
    const plugin = await loadRootPlugin(root, pjson);
    if (MANIFEST === null && process.env.NETDIAG_EMIT_OCLIF_MANIFEST === '1') {
      process.stdout.write(JSON.stringify(plugin.manifest));
      return;
    }
    await run([...argv], { ignoreManifest: true, pjson, plugins: new Map([[plugin.name, plugin]]), root });
    await flush();
  } catch (err) {
    reportError(err, argv.includes('-v') || argv.includes('--verbose'));
  }
}

void main(process.argv.slice(2));
