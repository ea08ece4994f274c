/**
 * `node`'s own part of `-o table`/`wide`: the facts of every node side by side (one column per node), a value that
 * differs from the majority marked `*` (and yellow on a terminal), and, with `--pod`, the pod's containers as the
 * runtime has them. The findings follow, rendered by the shared renderer.
 */
import { formatTable, paint, type TableColumn } from '../lib/output.js';
import type { DiagnosticResult } from '../findings/model.js';
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

/** The text above the findings. */
export function nodeView(result: DiagnosticResult<NodeData>, options: { readonly colour: boolean }): string {
  const nodes = result.data.nodes.map((facts) => facts.node);
  const parts: string[] = [];
  if (nodes.length > 0) parts.push(fleetTable(result.data.fleet, nodes, options.colour));
  if (result.data.pod) parts.push(podTable(result.data.pod));
  return parts.join('\n');
}
