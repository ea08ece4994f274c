/**
 * The CLI surface as a contract (the way salesforce CLI plugins guard theirs): every command's args and flags — names,
 * short forms, types, defaults, options, relations — as committed in docs/cli-surface.json. A unit test fails when
 * they change without the snapshot; `npm run snapshot:cli` rewrites it after an intended change (review the diff).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Config, type Command } from '@oclif/core';

export const SNAPSHOT = new URL('../../docs/cli-surface.json', import.meta.url);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type LoadedFlag = Command.Flag.Any & { exclusive?: string[]; dependsOn?: string[]; allowNo?: boolean };

/** A default as the contract sees it: values as they are, computed defaults by name only. */
const shownDefault = (value: unknown): unknown => (typeof value === 'function' ? '(computed)' : value);

function flagSurface(flag: LoadedFlag): Record<string, unknown> {
  const entry: Record<string, unknown> = { type: flag.type };
  if (flag.char) entry.char = flag.char;
  if (flag.required) entry.required = true;
  if (flag.default !== undefined) entry.default = shownDefault(flag.default);
  if (flag.type === 'option' && flag.options) entry.options = [...flag.options];
  if (flag.type === 'option' && flag.multiple) entry.multiple = true;
  if (flag.type === 'boolean' && flag.allowNo) entry.allowNo = true;
  if (flag.exclusive?.length) entry.exclusive = [...flag.exclusive].sort();
  if (flag.dependsOn?.length) entry.dependsOn = [...flag.dependsOn].sort();
  if (flag.hidden) entry.hidden = true;
  return entry;
}

/** Every command's surface, sorted, as JSON-ready data. */
export async function cliSurface(): Promise<Record<string, unknown>> {
  const config = await Config.load(ROOT);
  const commands = [...config.commands].sort((a, b) => a.id.localeCompare(b.id));
  return Object.fromEntries(
    commands.map((command) => [
      command.id,
      {
        args: Object.values(command.args).map((arg) => ({
          name: arg.name,
          ...(arg.required ? { required: true } : {}),
          ...(arg.options ? { options: [...arg.options] } : {}),
          ...(arg.default !== undefined ? { default: shownDefault(arg.default) } : {}),
        })),
        ...(command.strict === false ? { strict: false } : {}),
        flags: Object.fromEntries(
          Object.entries(command.flags as Record<string, LoadedFlag>)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, flag]) => [name, flagSurface(flag)]),
        ),
      },
    ]),
  );
}

if (process.argv[2] === '--write') {
  writeFileSync(SNAPSHOT, `${JSON.stringify(await cliSurface(), null, 2)}\n`);
  process.stdout.write(`wrote ${fileURLToPath(SNAPSHOT)}\n`);
}
