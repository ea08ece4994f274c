/**
 * The dns command's own view for -o table/wide: one line per node with the state of each hop in path order, shown
 * above the findings. Pure.
 */
import type { DiagnosticResult, Finding } from '../findings/model.js';
import type { DnsData } from './engine.js';
import { DnsIds } from './ids.js';

const COLUMNS: readonly (readonly [string, string])[] = [
  ['CLUSTER', DnsIds.lookupCluster],
  ['EXTERNAL', DnsIds.lookupExternal],
  ['CACHE', DnsIds.hopNodeLocal],
  ['CLUSTERIP', DnsIds.hopClusterIp],
  ['COREDNS', DnsIds.hopCorednsPod],
  ['UPSTREAM', DnsIds.hopUpstream],
];

const cell = (findings: readonly Finding[], id: string): string => {
  const found = findings.find((finding) => finding.id === id);
  if (!found) return '-';
  return found.status === 'pass' ? 'ok' : found.status;
};

/** `1/3 ms`: median/p95 over the node's answered UDP queries to the first resolver in the path. */
function latencyCell(data: DnsData, node: string): string {
  const row = data.resolvers.find(
    (entry) => entry.node === node && entry.protocol === 'udp' && entry.medianMs !== undefined,
  );
  return row ? `${row.medianMs}/${row.p95Ms} ms` : '-';
}

function pad(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((text, column) => text.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function dnsNodeTable(result: DiagnosticResult<DnsData>, options: { readonly wide: boolean }): string {
  const { data } = result;
  const local = data.discovery.nodeLocal;
  const header = [
    `cluster domain ${data.discovery.domain}, kube-dns ${data.discovery.kubeDnsIP}, ` +
      `node cache ${local ? local.address : 'none'}, ${data.discovery.corednsPods.length} CoreDNS pods, ` +
      `upstream ${data.discovery.forward.join(' ') || 'none'}`,
  ];
  const rows: string[][] = [['NODE', 'NAMESERVER', ...COLUMNS.map(([title]) => title), 'LATENCY']];
  for (const node of data.nodes)
    rows.push([
      node.node,
      node.nameserver ?? '-',
      ...COLUMNS.map(([, id]) => cell(node.findings, id)),
      latencyCell(data, node.node),
    ]);
  for (const entry of result.unavailable) rows.push([entry.node, `unavailable: ${entry.reason}`]);
  const lines = [...header, '', pad(rows)];
  if (data.propagation)
    lines.push(
      '',
      `new Service ${data.propagation.service} resolvable after: ` +
        data.propagation.nodes
          .map(
            (row) =>
              `${row.node} ${row.resolvedAfterMs === null ? 'never' : `${(row.resolvedAfterMs / 1000).toFixed(1)} s`}`,
          )
          .join(', '),
    );
  if (options.wide)
    for (const capture of data.capture ?? [])
      lines.push(
        '',
        `${capture.node}: one lookup of ${capture.lookup}:`,
        ...capture.queries.map((q) => `  ${q.name} ${q.type} ${q.rcode ?? 'no answer'}`),
      );
  return `${lines.join('\n')}\n`;
}
