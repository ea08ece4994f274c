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

/** dig reports whole milliseconds: 0 is an answer faster than one, not a free one. */
const wholeMs = (ms: number): string => (ms === 0 ? '<1' : String(ms));

/**
 * `1/3 ms`: median/p95 over the node's answered UDP queries to the resolver its pods ask (the nameserver, else the
 * first in the path); `-` when that one did not answer: a later hop's figure would pass for the pods' latency.
 */
function latencyCell(data: DnsData, node: DnsData['nodes'][number]): string {
  const rows = data.resolvers.filter((entry) => entry.node === node.node && entry.protocol === 'udp');
  const row = rows.find((entry) => entry.address === node.nameserver) ?? rows[0];
  if (row?.medianMs === undefined || row.p95Ms === undefined) return '-';
  return `${wholeMs(row.medianMs)}/${wholeMs(row.p95Ms)} ms`;
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
      latencyCell(data, node),
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
