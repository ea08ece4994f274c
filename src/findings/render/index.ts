/**
 * Renders any command's {@link DiagnosticResult} in the `-o` format asked for. The JSON and YAML forms are the whole
 * result (the contract; docs/schema/ has its schema); the human forms put the findings first and let a command add
 * its own view through {@link ResultView} (bw's matrix, check's per-layer matrix) without writing a renderer.
 */
import { stringify as toYaml } from 'yaml';
import { usageError } from '../../lib/errors.js';
import type { DiagnosticResult } from '../model.js';
import { renderTable } from './table.js';

export const REPORT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function parseReportFormat(value: string): ReportFormat {
  const found = REPORT_FORMATS.find((format) => format === value);
  if (!found) throw usageError(`invalid output format "${value}"`, `use -o ${REPORT_FORMATS.join('|')}`);
  return found;
}

/** What a command adds to the generic rendering of its result; every part is optional. */
export interface ResultView<Data> {
  /** Text shown above the findings with -o table/wide (e.g. a matrix). */
  readonly text?: (
    result: DiagnosticResult<Data>,
    options: { readonly wide: boolean; readonly colour: boolean },
  ) => string;
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
      return `${JSON.stringify(result, null, 2)}\n`;
    case 'yaml':
      return toYaml(result);
    case 'table':
    case 'wide': {
      const textOptions = { wide: format === 'wide', colour: options.colour };
      return renderTable(result, textOptions, view.text?.(result, textOptions));
    }
  }
}
