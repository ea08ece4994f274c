import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { build, type Plugin as EsbuildPlugin } from 'esbuild';

import { commandModulesFromFiles, commandsIndexSource, listFiles, type CommandModule } from './commands.js';

export interface BundleOptions {
  /** Repository root (holds package.json and src/). */
  readonly repoRoot: string;
  /** Commands directory, default `<repoRoot>/src/commands`. */
  readonly commandsDir?: string;
  readonly outfile: string;
  /** Version shown by oclif (package.json's version without the `v`). */
  readonly version: string;
  /** Default true; false keeps names readable in CPU profiles. */
  readonly minify?: boolean;
}

export interface BundleResult {
  readonly outfile: string;
  readonly commands: CommandModule[];
  readonly bytes: number;
}

type Json = Record<string, unknown>;

/**
 * The package.json that the bundled oclif sees: the real one, with discovery pinned to the explicit command map
 * and everything that would make oclif look at the disk (plugins, dev plugins, hooks, manifest) removed.
 * Hooks are rejected rather than dropped: a hook silently missing from the release binary would be a bug.
 */
export function bundledPjson(pjson: Json, version: string): Json {
  const oclif = { ...((pjson.oclif as Json | undefined) ?? {}) };
  if (oclif.hooks !== undefined && Object.keys(oclif.hooks as Json).length > 0) {
    throw new Error('package.json oclif.hooks is set: bundle the hooks explicitly before releasing');
  }
  for (const key of ['plugins', 'devPlugins', 'jitPlugins', 'hooks', 'helpClass', 'theme']) delete oclif[key];
  oclif.commands = { strategy: 'explicit', target: 'netdiag:commands', identifier: 'COMMANDS' };
  // Users type `kubectl netdiag`, so help and examples say so (the executable is kubectl-netdiag).
  oclif.bin = 'kubectl netdiag';
  return {
    name: pjson.name,
    version,
    description: pjson.description,
    license: pjson.license,
    type: 'commonjs',
    oclif,
  };
}

/**
 * Bundles the CLI into one CommonJS file (Node single executable applications run a CommonJS main script), in
 * two passes: the first bundle runs once on this machine's Node to compute oclif's manifest, the second embeds
 * it so that the released CLI evaluates only the command it runs. `import.meta.url` in ESM sources becomes the
 * bundle's own file URL.
 */
export async function bundleCli(options: BundleOptions): Promise<BundleResult> {
  const commandsDir = options.commandsDir ?? join(options.repoRoot, 'src', 'commands');
  const commands = commandModulesFromFiles(await listFiles(commandsDir));
  if (commands.length === 0) throw new Error(`no oclif commands found under ${commandsDir}`);
  const pjson = JSON.parse(await readFile(join(options.repoRoot, 'package.json'), 'utf8')) as Json;
  const virtual = {
    commands: commandsIndexSource(commands, commandsDir),
    pjson: `export const PJSON = ${JSON.stringify(bundledPjson(pjson, options.version))};`,
  };
  const manifestPass = `${options.outfile}.manifest-pass.cjs`;
  await esbuildCli(options, manifestPass, commandsDir, { ...virtual, manifest: 'export const MANIFEST = null;' });
  const { stdout } = await promisify(execFile)(process.execPath, [manifestPass], {
    env: { ...process.env, NETDIAG_EMIT_OCLIF_MANIFEST: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  await rm(manifestPass);
  const manifest = JSON.parse(stdout) as { commands: Record<string, unknown> };
  const ids = Object.keys(manifest.commands).sort();
  if (ids.join(',') !== commands.map((c) => c.id).join(',')) {
    throw new Error(`oclif manifest has commands ${ids.join(',')}, src/commands has ${commands.map((c) => c.id)}`);
  }
  const byLocale = [...ids].sort((a, b) => a.localeCompare(b));
  if (byLocale.join(',') !== ids.join(',')) {
    throw new Error(`command ids sort differently by locale (${byLocale.join(',')}): drop oclif's sort patch`);
  }
  const bytes = await esbuildCli(options, options.outfile, commandsDir, {
    ...virtual,
    manifest: `export const MANIFEST = ${JSON.stringify(manifest)};`,
  });
  return { outfile: options.outfile, commands, bytes };
}

/** Edits to dependencies' sources in the bundle; the build fails when one no longer applies. */
const SOURCE_PATCHES: readonly { file: RegExp; from: string; to: string }[] = [
  // pcap-parser grows its buffer with `new Buffer(n)`: Node stays quiet about that inside node_modules, but from
  // a bundle it prints a DEP0005 deprecation warning on every capture. Same bytes with the current call.
  { file: /[\\/]pcap-parser[\\/]lib[\\/]pcap-parser\.js$/, from: 'new Buffer(', to: 'Buffer.allocUnsafe(' },
  // oclif sorts the command list with localeCompare on every start, and the first localeCompare of a process loads
  // ICU's collation data: ~5 ms and ~3 MiB of resident pages for ids that are ASCII (`bundleCli` checks that both
  // orders agree for ours).
  {
    file: /[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/,
    from: '.sort((a, b) => a.id.localeCompare(b.id))',
    to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))',
  },
];

async function esbuildCli(
  options: BundleOptions,
  outfile: string,
  commandsDir: string,
  virtual: { commands: string; pjson: string; manifest: string },
): Promise<number> {
  const virtualModules: EsbuildPlugin = {
    name: 'netdiag-virtual-modules',
    setup(b) {
      b.onResolve({ filter: /^netdiag:(commands|pjson|manifest)$/ }, (args) => ({
        path: args.path.slice('netdiag:'.length),
        namespace: 'netdiag',
      }));
      b.onLoad({ filter: /^commands$/, namespace: 'netdiag' }, () => ({
        contents: virtual.commands,
        loader: 'ts',
        resolveDir: commandsDir,
      }));
      b.onLoad({ filter: /^(pjson|manifest)$/, namespace: 'netdiag' }, (args) => ({
        contents: args.path === 'pjson' ? virtual.pjson : virtual.manifest,
        loader: 'js',
      }));
      for (const patch of SOURCE_PATCHES) {
        b.onLoad({ filter: patch.file }, async (args) => {
          const source = await readFile(args.path, 'utf8');
          const patched = source.replaceAll(patch.from, patch.to);
          if (patched === source) throw new Error(`${args.path} no longer has \`${patch.from}\`: drop this patch`);
          return { contents: patched, loader: 'js' };
        });
      }
      // client-node takes fetch, Agent and ProxyAgent from undici; undici's index also loads its mock agents,
      // interceptors, WebSocket and EventSource (~10 ms of every cluster command's start). The shim loads only those.
      b.onResolve({ filter: /^undici$/ }, (args) =>
        /[\\/]@kubernetes[\\/]client-node[\\/]/.test(args.importer)
          ? { path: join(options.repoRoot, 'scripts', 'release', 'shims', 'undici.cjs') }
          : undefined,
      );
      // oclif require()s typescript only to read a tsconfig.json during development (3.5 MB); the bundle never does.
      b.onResolve({ filter: /^typescript$/ }, () => ({ path: 'typescript', namespace: 'netdiag-absent' }));
      b.onLoad({ filter: /.*/, namespace: 'netdiag-absent' }, (args) => ({
        contents: `throw Object.assign(new Error("${args.path} is not part of the bundle"), { code: "MODULE_NOT_FOUND" });`,
        loader: 'js',
      }));
    },
  };
  const result = await build({
    entryPoints: [join(options.repoRoot, 'scripts', 'release', 'bundle-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: options.minify ?? true,
    keepNames: true,
    legalComments: 'none',
    sourcemap: false,
    logLevel: 'warning',
    metafile: true,
    plugins: [virtualModules],
    define: { 'import.meta.url': '__netdiag_bundle_url' },
    banner: { js: 'const __netdiag_bundle_url = require("node:url").pathToFileURL(__filename).href;' },
  });
  return Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
}
