/**
 * Renders any command's {@link DiagnosticResult} in the `-o` format asked for. The JSON and YAML forms are the whole
 * result (the contract; docs/schema/ has its schema); the human forms put the findings first and let a command add
 * its own view through {@link ResultView} (bw's matrix, check's per-layer matrix) without writing a renderer.
 */
import { stringify as toYaml } from 'yaml';
import type { DiagnosticResult } from '../model.js';
import { renderHtml, type HtmlSection } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderTable } from './table.js';
import type { ReportFormat } from './formats.js';

export { escapeHtml, STATUS_FILL, type HtmlSection } from './html.js';
export { parseFormat, REPORT_FORMATS, type ReportFormat } from './formats.js';

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

const serialise = (format: 'json' | 'yaml', data: unknown): string =>
  format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : toYaml(data);

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
