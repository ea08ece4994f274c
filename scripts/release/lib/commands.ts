import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';

/**
 * The bundled CLI cannot let oclif glob `dist/src/commands` at run time (there is no such directory inside a
 * single executable), so the release build derives the explicit command list from `src/commands` itself. The
 * ids follow oclif's own pattern-discovery rules (directories are topics joined with ':', `index` names the
 * topic itself, declaration and test files are not commands), so the bundle exposes exactly the commands a
 * development run (`bin/kubectl-netdiag`) discovers.
 */
export interface CommandModule {
  /** oclif command id, e.g. `sniff` or `bw:matrix`. */
  readonly id: string;
  /** Path relative to the commands directory, POSIX separators, e.g. `bw/matrix.ts`. */
  readonly file: string;
}

const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const NOT_A_COMMAND = /(\.d\.(ts|mts|cts)|\.(test|spec)\.(ts|tsx|js))$/;

/** Maps command files (relative, POSIX separators) to oclif ids; rejects two files claiming one id. */
export function commandModulesFromFiles(files: readonly string[]): CommandModule[] {
  const byId = new Map<string, string>();
  for (const file of files) {
    if (!SOURCE.test(file) || NOT_A_COMMAND.test(file)) continue;
    const parsed = posix.parse(file);
    const topics = parsed.dir === '' ? [] : parsed.dir.split('/');
    const name = parsed.name === 'index' ? [] : [parsed.name];
    const id = [...topics, ...name].join(':');
    if (id === '') throw new Error(`${file}: a root index command (single-command CLI) is not supported`);
    const previous = byId.get(id);
    if (previous !== undefined) throw new Error(`command id "${id}" is defined twice: ${previous} and ${file}`);
    byId.set(id, file);
  }
  return [...byId.entries()].map(([id, file]) => ({ id, file })).sort((a, b) => a.id.localeCompare(b.id));
}

/** Lists every file under `dir` (recursively), relative, with POSIX separators. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1).split('\\').join('/'))
    .sort();
}

/**
 * Source of the generated `COMMANDS` module: `{ id: CommandClass }` with one lazy getter per command file.
 * `require()` inside a getter makes esbuild wrap that command's module graph in a lazy initialiser, so running
 * `version` never evaluates the modules that only `sniff` needs. Command files export their class as default
 * (oclif's convention); a file without one fails the build (bundle-entry checks every id resolves).
 */
export function commandsIndexSource(modules: readonly CommandModule[], importBase: string): string {
  const entries = modules.map(
    (m) => `  get ${JSON.stringify(m.id)}() { return require(${JSON.stringify(posix.join(importBase, m.file))}).default; },`,
  );
  return ['export const COMMANDS = {', ...entries, '};', ''].join('\n');
}
