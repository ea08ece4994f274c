/**
 * bw's own views: the N×N matrix (rows = from, columns = to) in Gbit/s, coloured as a heatmap on a terminal; one row
 * per pair for `-o wide`; the matrix as an HTML heatmap. Pure: they take the data and return text.
 */
import { escapeHtml, STATUS_FILL, type HtmlSection, type ResultView } from '../findings/render/index.js';
import { paint, type Colour } from '../lib/output.js';
import { referenceRate } from './checks.js';
import type { BwData, Network, PairResult } from './model.js';

const HEAT_COLOUR: Readonly<Record<Heat, Colour>> = { good: 'green', fair: 'yellow', poor: 'red', failed: 'red' };

/** Heat of a rate against what the network's links reach: good ≥ 80 %, poor below a third (the outlier line). */
export type Heat = 'good' | 'fair' | 'poor' | 'failed';

export function heatOf(result: PairResult, reference: number | undefined): Heat {
  if (result.bitsPerSecond === null) return 'failed';
  if (reference === undefined || reference <= 0) return 'good';
  const share = result.bitsPerSecond / reference;
  return share >= 0.8 ? 'good' : share >= 1 / 3 ? 'fair' : 'poor';
}

/** Node names without the suffix they all share (`.kube.local`), so columns stay narrow. */
export function shortNames(nodes: readonly string[]): Map<string, string> {
  const suffixOf = (name: string) => (name.includes('.') ? name.slice(name.indexOf('.')) : '');
  const suffix = suffixOf(nodes[0] ?? '');
  const shared = suffix !== '' && nodes.every((node) => suffixOf(node) === suffix);
  return new Map(nodes.map((node) => [node, shared ? node.slice(0, -suffix.length) : node]));
}

const gbit = (bitsPerSecond: number): string => (bitsPerSecond / 1e9).toFixed(2);

function cellText(result: PairResult | undefined): string {
  if (!result) return '·';
  return result.bitsPerSecond === null ? 'failed' : gbit(result.bitsPerSecond);
}

const paintHeat = (text: string, heat: Heat | undefined, colour: boolean): string =>
  heat === undefined ? text : paint(text, HEAT_COLOUR[heat], colour);

/** One network's matrix as aligned text; colour codes are added after padding so alignment survives them. */
function networkMatrix(data: BwData, network: Network, colour: boolean): string {
  const names = shortNames(data.nodes);
  const header = ['from \\ to', ...data.nodes.map((node) => names.get(node) ?? node)];
  const rows = cells(data, network).map((row, index) => [
    { text: names.get(data.nodes[index] ?? '') ?? '', heat: undefined as Heat | undefined },
    ...row,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.text.length ?? 0)),
  );
  const line = (row: { text: string; heat: Heat | undefined }[]) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        const padded = column === 0 ? cell.text.padEnd(width) : cell.text.padStart(width);
        return paintHeat(padded, cell.heat, colour);
      })
      .join('  ')
      .trimEnd();
  const title = `${network} network, Gbit/s received (rows: from, columns: to)`;
  return [title, line(header.map((text) => ({ text, heat: undefined }))), ...rows.map(line)].join('\n');
}

function ratioLines(data: BwData): string[] {
  if (data.ratios.length === 0) return [];
  const names = shortNames(data.nodes);
  return [
    'pod ÷ host network',
    ...data.ratios.map(
      (ratio) =>
        `  ${names.get(ratio.from) ?? ratio.from} → ${names.get(ratio.to) ?? ratio.to}  ${ratio.ratio.toFixed(2)}`,
    ),
  ];
}

/** `-o table`: the matrix of each network, the pod÷host ratios, and a line on the schedule and wall time. */
export function renderMatrix(data: BwData, options: { colour: boolean }): string {
  const blocks = data.networks.map((network) => networkMatrix(data, network, options.colour));
  const ratios = ratioLines(data);
  if (ratios.length > 0) blocks.push(ratios.join('\n'));
  blocks.push(scheduleLine(data));
  return `${blocks.join('\n\n')}\n`;
}

function scheduleLine(data: BwData): string {
  const rounds = data.schedule.map(
    (entry) =>
      `${entry.network}: ${entry.rounds} round(s)${entry.optimal ? ' (the fewest possible)' : ` (at least ${entry.lowerBound} needed)`}`,
  );
  const measured = data.results.length;
  return `${measured} measurement(s) in ${(data.wallTimeMs / 1000).toFixed(1)}s; ${rounds.join(', ')}${data.interrupted ? '; INTERRUPTED: finished pairs only' : ''}`;
}

const optional = (value: number | null, digits: number, unit = ''): string =>
  value === null ? '-' : `${value.toFixed(digits)}${unit}`;

/** `-o wide`: one row per measured direction with every number. */
export function renderPairRows(data: BwData): string {
  const header = [
    'FROM',
    'TO',
    'NETWORK',
    'PROTO',
    'RECEIVED',
    'SENT',
    'RETRANS',
    'RTT',
    'JITTER',
    'LOST',
    'CPU S/R',
    'ROUND',
    'ERROR',
  ];
  const rows = data.results.map((result) => [
    result.from,
    result.to,
    result.network,
    result.protocol,
    result.bitsPerSecond === null ? '-' : `${gbit(result.bitsPerSecond)}G`,
    result.sentBitsPerSecond === null ? '-' : `${gbit(result.sentBitsPerSecond)}G`,
    result.retransmits === null ? '-' : String(result.retransmits),
    optional(result.rttMs, 2, 'ms'),
    optional(result.jitterMs, 3, 'ms'),
    optional(result.lostPercent, 2, '%'),
    result.cpu === null ? '-' : `${result.cpu.sender.toFixed(0)}/${result.cpu.receiver.toFixed(0)}%`,
    String(result.round),
    result.error ?? '',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n\n${scheduleLine(data)}\n`;
}

const HTML_HEAT: Readonly<Record<Heat, string>> = {
  good: '#b7e1b0',
  fair: '#f6e3a1',
  poor: '#f2a19a',
  failed: STATUS_FILL.fail,
};

/** One network's cells: what each cell shows and its heat, rows = from, columns = to ('—' on the diagonal). */
function cells(data: BwData, network: Network): { text: string; heat: Heat | undefined; title: string }[][] {
  const reference = referenceRate(data.results, network);
  const results = new Map(
    data.results
      .filter((result) => result.network === network)
      .map((result) => [`${result.from}|${result.to}`, result]),
  );
  return data.nodes.map((from) =>
    data.nodes.map((to) => {
      const result = from === to ? undefined : results.get(`${from}|${to}`);
      if (!result) return { text: from === to ? '—' : '·', heat: undefined, title: '' };
      const title = result.error ?? `${result.retransmits ?? 0} retransmits`;
      return { text: cellText(result), heat: heatOf(result, reference), title };
    }),
  );
}

/** -o html: each network's matrix as a table whose cells are coloured by heat. */
export function htmlSections(data: BwData): HtmlSection[] {
  const names = shortNames(data.nodes);
  return data.networks.map((network) => {
    const head = data.nodes.map((node) => `<th>${escapeHtml(names.get(node) ?? node)}</th>`).join('');
    const rows = cells(data, network).map((row, index) => {
      const from = data.nodes[index] ?? '';
      const tds = row.map((cell) =>
        cell.heat === undefined
          ? `<td>${cell.text}</td>`
          : `<td style="background:${HTML_HEAT[cell.heat]}" title="${escapeHtml(cell.title)}">${cell.text}</td>`,
      );
      return `<tr><th>${escapeHtml(names.get(from) ?? from)}</th>${tds.join('')}</tr>`;
    });
    return {
      title: `${network} network, Gbit/s received (rows: from, columns: to)`,
      html: `<table class="bw-heatmap">\n<tr><th>from \\ to</th>${head}</tr>\n${rows.join('\n')}\n</table>`,
    };
  });
}

/** -o markdown: each network's matrix as a table. */
export function markdownMatrix(data: BwData): string {
  const names = shortNames(data.nodes);
  const blocks = data.networks.map((network) => {
    const header = `| from \\ to | ${data.nodes.map((node) => names.get(node) ?? node).join(' | ')} |`;
    const rule = `|---|${data.nodes.map(() => '---:').join('|')}|`;
    const rows = cells(data, network).map(
      (row, index) => `| ${names.get(data.nodes[index] ?? '') ?? ''} | ${row.map((cell) => cell.text).join(' | ')} |`,
    );
    return [`**${network} network**, Gbit/s received (rows: from, columns: to)`, '', header, rule, ...rows].join('\n');
  });
  return `${blocks.join('\n\n')}\n\n${scheduleLine(data)}\n`;
}

/** bw's view for every -o format: the matrix above the findings (table, markdown, html), a row per pair (wide). */
export const BW_VIEW: ResultView<BwData> = {
  text: (result, options) =>
    options.wide ? renderPairRows(result.data) : renderMatrix(result.data, { colour: options.colour }),
  markdown: (result) => markdownMatrix(result.data),
  html: (result) => htmlSections(result.data),
};
