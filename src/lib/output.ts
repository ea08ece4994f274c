import { renderError } from './errors.js';

/** One column of a table report. `wide` columns only appear with `-o wide`. */
export interface TableColumn<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  readonly wide?: boolean;
}

/** Width on a terminal: colour escapes take no columns. */
const SGR_SEQUENCE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const visibleLength = (text: string): number => text.replace(SGR_SEQUENCE, '').length;

/**
 * kubectl-style table: upper-case headers, columns separated by three spaces, no borders, no trailing spaces.
 */
export function formatTable<Row>(columns: readonly TableColumn<Row>[], rows: readonly Row[], wide: boolean): string {
  const shown = columns.filter((column) => wide || !column.wide);
  const cells = [
    shown.map((column) => column.header.toUpperCase()),
    ...rows.map((row) => shown.map((c) => c.value(row))),
  ];
  const widths = shown.map((_, index) => Math.max(...cells.map((line) => visibleLength(line[index] ?? ''))));
  return cells
    .map((line) =>
      line
        .map((cell, index) =>
          index === line.length - 1 ? cell : cell + ' '.repeat((widths[index] ?? 0) - visibleLength(cell)),
        )
        .join('   ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Colour only on a TTY and only when NO_COLOR is unset or empty (https://no-color.org: "when present and not an
 * empty string"). FORCE_COLOR is not honoured on purpose: stdout data must stay plain when piped.
 */
export function colorEnabled(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

const SGR = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof SGR;

export function paint(text: string, colour: Colour, enabled: boolean): string {
  return enabled ? `\u001b[${SGR[colour]}m${text}\u001b[0m` : text;
}

/** The `error:` / `fix:` lines of a rendered error as stderr text, the prefixes coloured when colour is on. */
export function formatErrorLines(lines: readonly string[], colour: boolean): string {
  return lines
    .map((line) =>
      line.replace(/^error:/, paint('error:', 'red', colour)).replace(/^fix:/, paint('fix:', 'yellow', colour)),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** Prints an error that ends the command on stderr and sets the process exit code from the contract. */
export function reportError(err: unknown, verbose: boolean, stderr: NodeJS.WriteStream = process.stderr): void {
  const rendered = renderError(err, { verbose });
  stderr.write(formatErrorLines(rendered.lines, colorEnabled(process.env, stderr.isTTY === true)));
  process.exitCode = rendered.exitCode;
}
