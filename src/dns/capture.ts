/**
 * --capture: what a pod really sends for one lookup of a short name. In each probe pod the sniff engine's tcpdump
 * command captures port 53 to a file while the C library looks the name up once; the pcap comes back base64-encoded
 * (exec output is text) and is decoded here (src/pcap reader, wire.ts). With `ndots:5` a name with fewer dots goes
 * through the search list first: N queries and N NXDOMAINs before the real one (kubernetes#14051).
 */
import type { DiagnosticContext } from '../kube/context.js';
import type { Fleet } from '../kube/fleet.js';
import type { Finding } from '../findings/model.js';
import { tcpdumpArgv } from '../sniff/tcpdump.js';
import { DnsIds } from './ids.js';
import type { DnsOptions } from './options.js';
import { parseProbeOutput, shellQuote } from './probe.js';
import { dnsPacketsFromPcap, type DnsPacket } from './wire.js';

const CAPTURE_TIMEOUT_MS = 45_000;

export interface CapturedQuery {
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
  readonly server: string;
  /** The answer's response code; undefined when none was captured. */
  readonly rcode: string | undefined;
}

export interface CaptureSummary {
  readonly node: string;
  /** The name looked up once through the C library. */
  readonly lookup: string;
  readonly queries: readonly CapturedQuery[];
  readonly nxdomain: number;
  readonly unanswered: number;
  /** tcpdump's complaint when it could not capture. */
  readonly error: string | undefined;
}

/** The name to look up while capturing: the first external name (short names show the search list), else a cluster one. */
export const captureName = (options: Pick<DnsOptions, 'externalNames'>): string =>
  options.externalNames[0] ?? 'kubernetes.default';

/** The capture script: tcpdump (sniff's argv) to a file, one lookup once it listens, the pcap back as base64. */
export function captureScript(name: string): string {
  const tcpdump = tcpdumpArgv('tcpdump', {
    interface: 'any',
    filter: 'port 53',
    snaplen: undefined,
    count: undefined,
    immediate: true,
  })
    .map(shellQuote)
    .join(' ');
  return [
    'f=$(mktemp 2>/dev/null || echo /tmp/netdiag-capture.$$); e="$f.err"',
    `${tcpdump} >"$f" 2>"$e" & t=$!`,
    // Look the name up only once tcpdump listens, or the first queries go unseen.
    `i=0; while [ "$i" -lt 50 ] && ! grep -q 'listening on' "$e" 2>/dev/null; do sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1)); done`,
    `getent ahosts ${shellQuote(name)} >/dev/null 2>"$f.g" || { grep -qi 'unknown database' "$f.g" && getent hosts ${shellQuote(name)} >/dev/null 2>&1; }`,
    'sleep 1; kill "$t" 2>/dev/null; wait "$t" 2>/dev/null',
    'echo "@@netdiag tcpdump"; cat "$e"; echo "@@netdiag end"',
    'echo "@@netdiag pcap"; base64 "$f"; echo "@@netdiag end"',
    'rm -f "$f" "$e" "$f.g"',
  ].join('\n');
}

/** The pod's queries (by its address) with the response each got, in the order sent. Pure. */
export function summarizeCapture(
  node: string,
  lookup: string,
  podIP: string,
  packets: readonly DnsPacket[],
): CaptureSummary {
  // The lookup's queries: the name itself and its search-list expansions, nothing else the pod sent meanwhile.
  const base = lookup.replace(/\.$/, '').toLowerCase();
  const sent = packets.filter(
    (packet) => !packet.response && packet.src === podIP && packet.name.toLowerCase().startsWith(`${base}.`),
  );
  const queries = sent.map((query) => {
    const answer = packets.find(
      (packet) => packet.response && packet.id === query.id && packet.dst === podIP && packet.name === query.name,
    );
    return { name: query.name, type: query.type, transport: query.transport, server: query.dst, rcode: answer?.rcode };
  });
  return {
    node,
    lookup,
    queries,
    nxdomain: queries.filter((query) => query.rcode === 'NXDOMAIN').length,
    unanswered: queries.filter((query) => query.rcode === undefined).length,
    error: undefined,
  };
}

/** The search-expansion finding of one node's capture. Pure. */
export function captureFinding(summary: CaptureSummary): Finding {
  const subject = `node/${summary.node}`;
  const id = DnsIds.searchExpansion;
  if (summary.error !== undefined || summary.queries.length === 0)
    return {
      id,
      subject,
      status: 'skip',
      summary: `no DNS query captured for ${summary.lookup}${summary.error ? `: ${summary.error}` : ''}`,
      evidence: [],
      hint: 'the probe pod needs tcpdump and NET_RAW (--image with tcpdump)',
    };
  const list = summary.queries.map((query) => `${query.name} ${query.type} ${query.rcode ?? 'no answer'}`);
  const metrics = { queries: summary.queries.length, nxdomain: summary.nxdomain, unanswered: summary.unanswered };
  const evidence = [
    {
      where: `probe pod on ${summary.node}`,
      command: `tcpdump -i any port 53 during getent ahosts ${summary.lookup}`,
      output: list.join('\n'),
    },
  ];
  const head = `one lookup of ${summary.lookup} sent ${summary.queries.length} queries (${summary.nxdomain} NXDOMAIN${summary.unanswered ? `, ${summary.unanswered} unanswered` : ''})`;
  if (summary.nxdomain === 0) return { id, subject, status: 'pass', summary: head, evidence, metrics };
  return {
    id,
    subject,
    status: 'warn',
    summary: `${head}: the search list was tried first`,
    evidence,
    hint: `end names with a dot (${summary.lookup.replace(/\.?$/, '.')}) or lower ndots in the pod's dnsConfig (options ndots:2) for workloads that mostly resolve external names`,
    metrics,
  };
}

export async function runCapture(
  ctx: DiagnosticContext,
  fleet: Fleet,
  name: string,
): Promise<{ summary: CaptureSummary; findings: Finding[] }[]> {
  const outcomes = await ctx.progress.step(`capturing one lookup of ${name} on ${fleet.members.length} node(s)`, () =>
    fleet.execAll(
      ['sh', '-c', captureScript(name)],
      (output, member) => {
        const { sections } = parseProbeOutput(output.stdout);
        const tcpdump = sections.find((section) => section.kind === 'tcpdump')?.body ?? '';
        const pcap = Buffer.from(sections.find((section) => section.kind === 'pcap')?.body ?? '', 'base64');
        const packets = pcap.length >= 24 ? dnsPacketsFromPcap(pcap) : [];
        const summary = summarizeCapture(member.node, name, member.podIP, packets);
        const failed =
          packets.length === 0
            ? tcpdump.split('\n').find((line) => /error|denied|not permitted|not found/i.test(line))
            : undefined;
        return failed ? { ...summary, error: failed.trim() } : summary;
      },
      { timeoutMs: CAPTURE_TIMEOUT_MS },
    ),
  );
  return outcomes.map((outcome) => {
    const summary: CaptureSummary = outcome.ok
      ? outcome.value
      : { node: outcome.node, lookup: name, queries: [], nxdomain: 0, unanswered: 0, error: outcome.reason };
    return { summary, findings: [captureFinding(summary)] };
  });
}
