/**
 * Renders any command's {@link DiagnosticResult} in the `-o` format asked for. The JSON and YAML forms are the whole
 * result (the contract; docs/schema/ has its schema); the human forms put the findings first and let a command add
 * its own view through {@link ResultView} (bw's matrix, check's per-layer matrix) without writing a renderer.
 */
import { stringify as toYaml } from 'yaml';
import { usageError } from '../../lib/errors.js';
import type { DiagnosticResult } from '../model.js';
import { renderHtml, type HtmlSection } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderTable } from './table.js';

export { escapeHtml, STATUS_FILL, type HtmlSection } from './html.js';

export const REPORT_FORMATS = ['table', 'wide', 'json', 'yaml', 'markdown', 'html', 'junit'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Narrows `-o`'s value to one of `formats` (oclif checked it already; direct callers may not have). */
export function parseFormat<Format extends string>(value: string, formats: readonly Format[]): Format {
  const found = formats.find((format) => format === value);
  if (!found) throw usageError(`invalid output format "${value}"`, `use -o ${formats.join('|')}`);
  return found;
}

/** What a command adds to the generic rendering of its result; every part is optional. */
export interface ResultView<Data> {
  /** Text shown above the findings with -o table/wide (e.g. a matrix). */
  readonly text?: (
    result: DiagnosticResult<Data>,
    options: { readonly wide: boolean; readonly colour: boolean },
  ) => string;
  /** Markdown shown above the findings with -o markdown. */
  readonly markdown?: (result: DiagnosticResult<Data>) => string;
  /** Sections of the -o html report, above the findings (a heatmap as inline SVG, a matrix as a table). */
  readonly html?: (result: DiagnosticResult<Data>) => readonly HtmlSection[];
}

/** The -o values of a command whose output is not a diagnosis (version, cleanup). */
export const DATA_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

const serialise = (format: 'json' | 'yaml', data: unknown): string =>
  format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : toYaml(data);

/**
 * Output of a command that is not a diagnosis: json/yaml are `data` itself (its docs/schema contract), table/wide
 * are the command's text.
 */
export function renderData(format: DataFormat, data: unknown, text: (wide: boolean) => string): string {
  return format === 'json' || format === 'yaml' ? serialise(format, data) : text(format === 'wide');
}

export interface RenderOptions {
  /** Colour for table/wide: the caller decides (stdout is a TTY and NO_COLOR is unset). */
  readonly colour: boolean;
}

export function renderResult<Data>(
  format: ReportFormat,
  result: DiagnosticResult<Data>,
  view: ResultView<Data> = {},
  options: RenderOptions = { colour: false },
): string {
  switch (format) {
    case 'json':
    case 'yaml':
      return serialise(format, result);
    case 'table':
    case 'wide': {
      const textOptions = { wide: format === 'wide', colour: options.colour };
      return renderTable(result, textOptions, view.text?.(result, textOptions));
    }
    case 'markdown':
      return renderMarkdown(result, view.markdown?.(result));
    case 'html':
      return renderHtml(result, view.html?.(result));
    case 'junit':
      return renderJunit(result);
  }
}
