/**
 * The `-o` values and the output of commands that are not a diagnosis. Kept apart from the renderers (index.ts) so
 * that defining flags and printing `version` load neither the renderers nor the YAML library.
 */
import { usageError } from '../../lib/errors.js';

export const REPORT_FORMATS = ['table', 'wide', 'json', 'yaml', 'markdown', 'html', 'junit'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The -o values of a command whose output is not a diagnosis (version, cleanup). */
export const DATA_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** Narrows `-o`'s value to one of `formats` (oclif checked it already; direct callers may not have). */
export function parseFormat<Format extends string>(value: string, formats: readonly Format[]): Format {
  const found = formats.find((format) => format === value);
  if (!found) throw usageError(`invalid output format "${value}"`, `use -o ${formats.join('|')}`);
  return found;
}

/**
 * Output of a command that is not a diagnosis: json/yaml are `data` itself (its docs/schema contract), table/wide
 * are the command's text. The YAML library is loaded only for -o yaml.
 */
export async function renderData(format: DataFormat, data: unknown, text: (wide: boolean) => string): Promise<string> {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  if (format === 'yaml') return (await import('yaml')).stringify(data);
  return text(format === 'wide');
}
