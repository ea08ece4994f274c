/**
 * check's own view above the findings (-o table/wide): a from×to matrix per pair check and a node×target table for
 * the Service path and the outside targets, so "pod IPs fine, ClusterIP broken from worker3" is one glance. Each cell
 * is `ok` or the failure's reason; `·` was not checked. Pure.
 */
import type { DiagnosticResult } from '../findings/model.js';
import { escapeHtml, STATUS_FILL, type HtmlSection, type ResultView } from '../findings/render/index.js';
import { formatTable, paint } from '../lib/output.js';
import type { CheckData, ProbeSummary } from './engine.js';
import { CHECK_IDS, type CheckId } from './ids.js';
import { dfSizeForMtu } from './ping.js';

/** Matrices get unreadable past this many nodes; the findings list stays complete. */
const MATRIX_MAX_NODES = 16;

const PAIR_CHECKS: readonly (readonly [CheckId, string])[] = [
  [CHECK_IDS.podToPod, 'L3 ping pod→pod'],
  [CHECK_IDS.podToNode, 'L3 ping pod→node'],
  [CHECK_IDS.podIP, 'L4 TCP pod IP'],
  [CHECK_IDS.nodePort, 'L4 TCP NodePort (to = the node whose address and rules)'],
];

/** `worker1.kube.local` → `worker1` when every node shares the suffix. */
function shortNames(nodes: readonly string[]): (node: string) => string {
  const first = nodes[0] ?? '';
  const dot = first.indexOf('.');
  const suffix = dot < 0 ? '' : first.slice(dot);
  if (suffix === '' || !nodes.every((node) => node.endsWith(suffix) && node.length > suffix.length)) return (n) => n;
  return (node) => node.slice(0, -suffix.length);
}

type Cell = { readonly ok: boolean; readonly text: string };

/** One grid of the view: rows are source nodes, columns the other end (a node, or a target). */
interface Matrix {
  readonly title: string;
  readonly corner: string;
  readonly columns: readonly string[];
  readonly rows: readonly { readonly label: string; readonly cells: readonly (Cell | undefined)[] }[];
}

function cellOf(probe: ProbeSummary | undefined): Cell | undefined {
  if (probe === undefined) return undefined;
  return { ok: probe.ok, text: probe.ok ? 'ok' : (probe.reason ?? 'fail') };
}

/** The grids with anything in them, pair checks first, then the per-node targets. */
export function checkMatrices(data: CheckData): Matrix[] {
  const short = shortNames(data.nodes);
  const pairChecks: (readonly [string, (from: string, to: string) => Cell | undefined])[] = [
    ...PAIR_CHECKS.map(
      ([id, title]) =>
        [
          title,
          (from: string, to: string) => cellOf(data.probes.find((p) => p.id === id && p.from === from && p.to === to)),
        ] as const,
    ),
    [
      'MTU DF ping at the pod MTU',
      (from: string, to: string) => {
        const mtu = data.mtu.find((m) => m.from === from && m.to === to);
        if (mtu === undefined) return undefined;
        return mtu.largestPassing >= dfSizeForMtu(Math.min(mtu.fromMtu, mtu.toMtu))
          ? { ok: true, text: 'ok' }
          : { ok: false, text: `max ${mtu.largestPassing}` };
      },
    ],
  ];
  const matrices: Matrix[] = pairChecks.map(([title, cell]) => ({
    title,
    corner: 'from \\ to',
    columns: data.nodes.map(short),
    rows: data.nodes.map((from) => ({ label: short(from), cells: data.nodes.map((to) => cell(from, to)) })),
  }));
  const targets = [...new Set(data.probes.filter((p) => p.to === undefined).map((p) => `${p.id} ${p.target}`))];
  const label = (key: string): string => {
    const [id, target = ''] = key.split(' ');
    if (id === CHECK_IDS.serviceName) return 'name/tcp';
    if (id === CHECK_IDS.http) return `http ${target}`;
    if (id === CHECK_IDS.kubernetesService) return 'kubernetes';
    return target;
  };
  matrices.push({
    title: 'Service path and outside targets, per node',
    corner: 'node',
    columns: targets.map(label),
    rows: data.nodes.map((from) => ({
      label: short(from),
      cells: targets.map((key) =>
        cellOf(data.probes.find((p) => p.to === undefined && p.from === from && `${p.id} ${p.target}` === key)),
      ),
    })),
  });
  return matrices.filter((matrix) => matrix.rows.some((row) => row.cells.some((cell) => cell !== undefined)));
}

/** The grids as text for -o table/wide: `ok`, the reason, or `·` (not checked). */
export function matricesText(data: CheckData, colour: boolean): string {
  if (data.nodes.length > MATRIX_MAX_NODES) return '';
  const show = (cell: Cell | undefined) =>
    cell === undefined ? '·' : paint(cell.text, cell.ok ? 'green' : 'red', colour);
  return checkMatrices(data)
    .map(
      (matrix) =>
        `${matrix.title}\n${formatTable(
          [
            { header: matrix.corner, value: (row: Matrix['rows'][number]) => row.label },
            ...matrix.columns.map((column, index) => ({
              header: column,
              value: (row: Matrix['rows'][number]) => show(row.cells[index]),
            })),
          ],
          matrix.rows,
          false,
        )}`,
    )
    .join('\n');
}

/** The grids as HTML tables for -o html, each cell coloured like the findings' status pills. */
export function matricesHtml(data: CheckData): HtmlSection[] {
  return checkMatrices(data).map((matrix) => {
    const head = `<tr><th>${escapeHtml(matrix.corner)}</th>${matrix.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
    const rows = matrix.rows.map((row) => {
      const cells = row.cells.map((cell) =>
        cell === undefined
          ? '<td>·</td>'
          : `<td style="color:#fff;background:${STATUS_FILL[cell.ok ? 'pass' : 'fail']}">${escapeHtml(cell.text)}</td>`,
      );
      return `<tr><th>${escapeHtml(row.label)}</th>${cells.join('')}</tr>`;
    });
    return { title: matrix.title, html: `<table>${head}${rows.join('')}</table>` };
  });
}

export const checkView: ResultView<CheckData> = {
  text: (result: DiagnosticResult<CheckData>, options) => {
    const { coverage } = result.data;
    const sampled =
      coverage.sample === undefined
        ? ''
        : `sampled: ${coverage.sample} peers per node, ${coverage.pairsChecked} of ${coverage.pairsTotal} node pairs checked\n\n`;
    return `${sampled}${matricesText(result.data, options.colour)}`;
  },
  html: (result) => matricesHtml(result.data),
};
