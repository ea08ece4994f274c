/**
 * `node`'s own part of the report: the facts of every node side by side (one column per node), a value that differs
 * from the majority marked `*` (yellow on a terminal, a warning-coloured cell in html), and, with `--pod`, the pod's
 * containers as the runtime has them. The findings follow, rendered by the shared renderers.
 */
import { formatTable, paint, type TableColumn } from '../lib/output.js';
import type { DiagnosticResult } from '../findings/model.js';
import { escapeHtml, STATUS_FILL, type HtmlSection, type ResultView } from '../findings/render/index.js';
import type { FleetRow } from './checks.js';
import type { NodeData, PodInspection } from './engine.js';

/** `worker1.kube.local` → `worker1` when every node shares the same domain part, for narrower columns. */
export function shortNames(nodes: readonly string[]): Map<string, string> {
  const short = nodes.map((node) => node.split('.')[0] ?? node);
  const unique = new Set(short).size === nodes.length;
  return new Map(nodes.map((node, index) => [node, unique ? (short[index] ?? node) : node]));
}

export function fleetTable(rows: readonly FleetRow[], nodes: readonly string[], colour: boolean): string {
  const names = shortNames(nodes);
  const columns: TableColumn<FleetRow>[] = [
    { header: 'fact', value: (row) => row.fact },
    ...nodes.map((node): TableColumn<FleetRow> => ({
      header: names.get(node) ?? node,
      value: (row) => {
        const value = row.values[node] ?? '-';
        return row.odd.includes(node) ? paint(`${value} *`, 'yellow', colour) : value;
      },
    })),
  ];
  const shown = rows.filter((row) => Object.keys(row.values).length > 0);
  const odd = rows.some((row) => row.odd.length > 0);
  return `${formatTable(columns, shown, false)}${odd ? '* differs from the other nodes\n' : ''}`;
}

function podTable(pod: PodInspection): string {
  const lines = [`pod ${pod.namespace}/${pod.name} on ${pod.node}:`];
  for (const container of pod.containers) {
    const inspect = container.inspect as
      { pid?: number; info?: { pid?: number }; namespaces?: { type?: string; path?: string }[] } | undefined;
    const pid = inspect?.pid ?? inspect?.info?.pid;
    const netns = inspect?.namespaces?.find((ns) => ns.type === 'network')?.path;
    lines.push(
      `  ${container.name}  ${container.id.slice(0, 13)}${pid !== undefined ? `  pid ${pid}` : ''}${netns ? `  netns ${netns}` : ''}${inspect === undefined ? '  (not found in the runtime)' : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The facts side by side as an HTML table for -o html. */
export function fleetHtml(data: NodeData): HtmlSection[] {
  const nodes = data.nodes.map((facts) => facts.node);
  if (nodes.length === 0) return [];
  const head = `<tr><th>fact</th>${nodes.map((node) => `<th>${escapeHtml(node)}</th>`).join('')}</tr>`;
  const rows = data.fleet
    .filter((row) => Object.keys(row.values).length > 0)
    .map((row) => {
      const cells = nodes.map((node) => {
        const value = escapeHtml(row.values[node] ?? '-');
        return row.odd.includes(node)
          ? `<td style="color:#fff;background:${STATUS_FILL.warn}" title="differs from the other nodes (${escapeHtml(row.majority ?? '')})">${value}</td>`
          : `<td>${value}</td>`;
      });
      return `<tr><th>${escapeHtml(row.fact)}</th>${cells.join('')}</tr>`;
    });
  const sections: HtmlSection[] = [{ title: 'Nodes side by side', html: `<table>${head}${rows.join('')}</table>` }];
  if (data.pod)
    sections.push({
      title: `Pod ${data.pod.namespace}/${data.pod.name}`,
      html: `<pre>${escapeHtml(podTable(data.pod))}</pre>`,
    });
  return sections;
}

/** The text above the findings. */
export function nodeText(result: DiagnosticResult<NodeData>, options: { readonly colour: boolean }): string {
  const nodes = result.data.nodes.map((facts) => facts.node);
  const parts: string[] = [];
  if (nodes.length > 0) parts.push(fleetTable(result.data.fleet, nodes, options.colour));
  if (result.data.pod) parts.push(podTable(result.data.pod));
  return parts.join('\n');
}

export const nodeView: ResultView<NodeData> = {
  text: nodeText,
  html: (result) => fleetHtml(result.data),
};
