/**
 * --propagation: how long a new Service takes to resolve from every node. A Service is created (tracked by the run
 * session before the request, so it is deleted however the run ends), then each probe pod asks its own nameserver
 * for the Service's name until it answers. After an API server restart CoreDNS may not have re-established its watch
 * and answers NXDOMAIN, which the caches then keep for their denial TTL: seconds to tens of seconds (docs/lab.md).
 */
import type { DiagnosticContext } from '../kube/context.js';
import type { Fleet } from '../kube/fleet.js';
import { randomSuffix } from '../kube/pods.js';
import type { Finding } from '../findings/model.js';
import type { ClusterFacts } from './facts.js';
import { DnsIds } from './ids.js';
import { shellQuote } from './probe.js';

/** A new Service resolving later than this is worth a look (a watch lagging, a negative answer cached). */
export const SLOW_PROPAGATION_MS = 5000;
const POLL_SECONDS = 0.2;

export interface PropagationResult {
  readonly data: {
    readonly service: string;
    readonly name: string;
    readonly clusterIP: string;
    readonly nodes: readonly {
      readonly node: string;
      readonly resolvedAfterMs: number | null;
      readonly attempts: number;
    }[];
  };
  readonly findings: readonly Finding[];
}

/** The polling script: the pod's first nameserver, asked every 0.2 s, until the name answers or the time is up. */
export function propagationScript(name: string, timeoutSeconds: number): string {
  return [
    'now() { read u _ </proc/uptime; echo "$u"; }',
    `ns=$(sed -n 's/^nameserver[[:space:]]*//p' /etc/resolv.conf | head -n 1)`,
    's=$(now); n=0',
    'while :; do',
    '  n=$((n + 1))',
    `  a=$(dig +short +time=1 +tries=1 @"$ns" ${shellQuote(name)} A 2>/dev/null | grep -E '^[0-9.]+$' | head -n 1)`,
    '  e=$(now)',
    '  if [ -n "$a" ]; then echo "@@netdiag resolved $s $e $n $a"; exit 0; fi',
    `  if awk -v s="$s" -v e="$e" 'BEGIN { exit !(e - s > ${timeoutSeconds}) }'; then echo "@@netdiag never $s $e $n"; exit 0; fi`,
    `  sleep ${POLL_SECONDS} 2>/dev/null || sleep 1`,
    'done',
  ].join('\n');
}

/** What one poll printed: seconds from its first query to the answer (or to giving up), queries sent. Pure. */
export function parsePropagation(output: string): { resolved: boolean; seconds: number; attempts: number } | undefined {
  const match = /@@netdiag (resolved|never) ([\d.]+) ([\d.]+) (\d+)/.exec(output);
  if (!match) return undefined;
  return {
    resolved: match[1] === 'resolved',
    // /proc/uptime has centiseconds: round away the float noise of the subtraction.
    seconds: Math.round((Number(match[3]) - Number(match[2])) * 100) / 100,
    attempts: Number(match[4]),
  };
}

/** Findings per node from the measured times (null: never resolved within the timeout). Pure. */
export function propagationFindings(
  rows: readonly { node: string; resolvedAfterMs: number | null; attempts: number }[],
  name: string,
  timeoutMs: number,
): Finding[] {
  return rows.map((row) => {
    const subject = `node/${row.node}`;
    const metrics = { resolvedAfterMs: row.resolvedAfterMs ?? -1, attempts: row.attempts };
    if (row.resolvedAfterMs === null)
      return {
        id: DnsIds.propagation,
        subject,
        status: 'fail',
        summary: `the new Service ${name} did not resolve within ${timeoutMs / 1000} s`,
        evidence: [],
        hint: 'CoreDNS may have lost its watch of Services (kubectl -n kube-system logs -l k8s-app=kube-dns); restart CoreDNS if it does not recover',
        metrics,
      };
    const seconds = (row.resolvedAfterMs / 1000).toFixed(1);
    if (row.resolvedAfterMs > SLOW_PROPAGATION_MS)
      return {
        id: DnsIds.propagation,
        subject,
        status: 'warn',
        summary: `the new Service ${name} resolved after ${seconds} s (${row.attempts} queries)`,
        evidence: [],
        hint: 'a lagging CoreDNS watch or a cached NXDOMAIN (the caches keep denials for their denial TTL); see the CoreDNS logs',
        metrics,
      };
    return {
      id: DnsIds.propagation,
      subject,
      status: 'pass',
      summary: `the new Service ${name} resolved after ${seconds} s`,
      evidence: [],
      metrics,
    };
  });
}

export async function runPropagation(
  ctx: DiagnosticContext,
  fleet: Fleet,
  cluster: ClusterFacts,
  timeoutMs: number,
): Promise<PropagationResult> {
  const { client, session, signal, namespace } = ctx;
  const service = `netdiag-dns-${randomSuffix()}`;
  const name = `${service}.${namespace}.svc.${cluster.domain}`;
  // Registered before the request: an interruption during it must not leave the Service behind.
  session.trackService(namespace, service);
  const created = await client.createService(
    namespace,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: service, namespace, labels: { ...session.labels } },
      // No selector: nothing has to run behind it, its name only has to resolve.
      spec: { type: 'ClusterIP', ports: [{ name: 'probe', port: 80, protocol: 'TCP' }] },
    },
    { signal },
  );
  const createdAt = Date.now();
  const started = new Map<string, number>();
  const timeoutSeconds = Math.ceil(timeoutMs / 1000);
  const outcomes = await ctx.progress.step(`timing the new Service ${service} on ${fleet.members.length} node(s)`, () =>
    fleet.execAll(
      (member) => {
        started.set(member.node, Date.now());
        return ['sh', '-c', propagationScript(name, timeoutSeconds)];
      },
      (output) => parsePropagation(output.stdout),
      { timeoutMs: timeoutMs + 15_000 },
    ),
  );
  const rows = outcomes.map((outcome) => {
    const poll = outcome.ok ? outcome.value : undefined;
    const offset = (started.get(outcome.node) ?? createdAt) - createdAt;
    return {
      node: outcome.node,
      resolvedAfterMs: poll?.resolved ? Math.round(offset + poll.seconds * 1000) : null,
      attempts: poll?.attempts ?? 0,
    };
  });
  return {
    data: { service: `${namespace}/${service}`, name, clusterIP: created.spec?.clusterIP ?? '', nodes: rows },
    findings: propagationFindings(rows, name, timeoutMs),
  };
}
