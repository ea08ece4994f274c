/**
 * The per-node probe: ONE shell script run in a pod pinned to the node (dnsPolicy ClusterFirst, like a user's pod)
 * that reads resolv.conf, looks names up through the C library, and sends the same queries straight to every resolver
 * in the path with dig — UDP and TCP, resolvers in parallel. One exec per node keeps the run fast and the API
 * request count low. Pure: the plan, the script and the parsing of what it printed; the engine runs it.
 *
 * The script is POSIX sh for busybox (Alpine images such as infoblox/dnstools) and bash/dash alike: no `timeout`
 * (its flags differ between busybox versions), no `date +%N` (busybox may lack it) — time comes from /proc/uptime.
 */
import type {
  HopFacts,
  LookupFact,
  LookupKind,
  NodeFacts,
  Protocol,
  QueryFact,
  QueryScope,
  Resolver,
} from './facts.js';
import { parseDig, parseGetent, parseResolvConf } from './parse.js';

export interface PlannedLookup {
  readonly id: string;
  readonly name: string;
  readonly kind: LookupKind;
  readonly expected: readonly string[];
  readonly isDefault: boolean;
}

/** A run of `count` identical dig queries to one resolver over one protocol; stops after the first unanswered one. */
export interface PlannedJob {
  readonly id: string;
  readonly resolver: Resolver;
  readonly protocol: Protocol;
  readonly name: string;
  readonly scope: QueryScope;
  readonly expected: readonly string[];
  readonly count: number;
}

export interface ProbePlan {
  readonly lookups: readonly PlannedLookup[];
  /** Looked up `count` times in a row through the C library, after the first lookup of it succeeded. */
  readonly repeated:
    { readonly name: string; readonly count: number; readonly expected: readonly string[] } | undefined;
  readonly jobs: readonly PlannedJob[];
  /** UDP without TCP fallback (expect TC) then TCP, through the pod's first nameserver. */
  readonly largeName: string | undefined;
  /** dig's per-try timeout, seconds. */
  readonly digTimeoutSeconds: number;
  /** A lookup through the C library is killed after this many seconds (a broken path can make glibc wait minutes). */
  readonly lookupTimeoutSeconds: number;
}

export interface PlanInput {
  /** Resolvers in the path, in order (node cache, ClusterIP, CoreDNS pods, upstream). */
  readonly resolvers: readonly Resolver[];
  /** A cluster name every resolver but the upstream must answer, with its expected address. */
  readonly clusterName: string;
  readonly clusterExpected: readonly string[];
  readonly lookups: readonly Omit<PlannedLookup, 'id'>[];
  /** External names sent to every resolver once (and to the upstream). */
  readonly externalNames: readonly string[];
  /** Sent once to each CoreDNS pod: names no cache has seen (see {@link uncachedName}). */
  readonly uncachedNames: readonly string[];
  readonly queries: number;
  readonly repeatName: string;
  readonly repeatExpected: readonly string[];
  readonly largeName: string | undefined;
}

export const DIG_TIMEOUT_SECONDS = 2;
export const LOOKUP_TIMEOUT_SECONDS = 12;

/** Turns what to check into numbered lookups and query jobs. Pure. */
export function buildProbePlan(input: PlanInput): ProbePlan {
  const jobs: PlannedJob[] = [];
  for (const resolver of input.resolvers) {
    const add = (protocol: Protocol, name: string, scope: QueryScope, count: number, expected: readonly string[]) =>
      jobs.push({ id: `q${jobs.length}`, resolver, protocol, name, scope, expected, count });
    if (resolver.role !== 'upstream') {
      add('udp', input.clusterName, 'cluster', input.queries, input.clusterExpected);
      add('tcp', input.clusterName, 'cluster', input.queries, input.clusterExpected);
    }
    // Through the cache, the ClusterIP and CoreDNS one query says whether the chain works (the next would be
    // cached); straight to the upstream, as many as for cluster names: that is its latency.
    for (const name of input.externalNames)
      add('udp', name, 'external', resolver.role === 'upstream' ? input.queries : 1, []);
    // Caches in front of the upstream (the node cache's, CoreDNS's own) answer the external names for their TTL after
    // the upstream dies; a name never asked before reaches it, through each CoreDNS pod.
    if (resolver.role === 'coredns-pod') for (const name of input.uncachedNames) add('udp', name, 'uncached', 1, []);
  }
  return {
    lookups: input.lookups.map((lookup, index) => ({ ...lookup, id: `l${index}` })),
    repeated:
      input.queries > 1 ? { name: input.repeatName, count: input.queries, expected: input.repeatExpected } : undefined,
    jobs,
    largeName: input.largeName,
    digTimeoutSeconds: DIG_TIMEOUT_SECONDS,
    lookupTimeoutSeconds: LOOKUP_TIMEOUT_SECONDS,
  };
}

/**
 * A name under an external name's zone that no cache has seen: `LABEL.netdiag.test` for `www.netdiag.test`. Only
 * the upstream can answer it (usually NXDOMAIN). Undefined for a single-label name (its zone would be the root).
 */
export function uncachedName(externalName: string, label: string): string | undefined {
  const zone = externalName.replace(/\.$/, '').split('.').slice(1).join('.');
  return zone ? `${label}.${zone}` : undefined;
}

/** Single-quotes a word for sh. */
export const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

const MARK = '@@netdiag';

/** The probe script for a plan. Every section it prints starts with `@@netdiag KIND ID ...` and ends with `@@netdiag end`. */
export function probeScript(plan: ProbePlan): string {
  const q = shellQuote;
  const lines = [
    'd=$(mktemp -d 2>/dev/null || echo /tmp/netdiag-dns.$$); mkdir -p "$d"',
    'now() { read u _ </proc/uptime; echo "$u"; }',
    // The watchdog's output goes nowhere, so its sleeping child holds no pipe or file of the caller's open.
    `bounded() { t=$1; shift; "$@" & p=$!; ( sleep "$t"; kill "$p" ) >/dev/null 2>&1 & w=$!; wait "$p"; r=$?; kill "$w" 2>/dev/null; return $r; }`,
    // getent writes to a file, not to a $( ) pipe: a killed lookup's children must not keep the pipe open.
    // `ahosts` is glibc's (A and AAAA in parallel, like applications); musl's getent knows only `hosts`.
    `lookup() { f="$d/lookup.$1"; s=$(now); bounded ${plan.lookupTimeoutSeconds} getent ahosts "$2" >"$f" 2>&1; r=$?; if [ "$r" -ne 0 ] && grep -qi 'unknown database' "$f"; then bounded ${plan.lookupTimeoutSeconds} getent hosts "$2" >"$f" 2>&1; r=$?; fi; e=$(now); echo "${MARK} lookup $1 $r $s $e"; cat "$f"; rm -f "$f"; echo "${MARK} end"; }`,
    // ask ID SERVER FLAGS NAME: one query; returns non-zero when no answer came back at all.
    `ask() { o=$(dig +noall +comments +answer +stats +time=${plan.digTimeoutSeconds} +tries=1 $3 @"$2" "$4" A 2>&1); r=$?; echo "${MARK} dig $1 $r"; printf '%s\\n' "$o"; echo "${MARK} end"; case "$o" in *'status:'*) return 0;; esac; return 1; }`,
    // A job's first unanswered query ends it: the next ones would only wait for the same timeout.
    `job() { id=$1; n=$2; shift 2; i=0; while [ "$i" -lt "$n" ]; do ask "$id.$i" "$@" || break; i=$((i + 1)); done; }`,
    `for t in dig getent; do command -v "$t" >/dev/null 2>&1 || echo "${MARK} missing $t"; done`,
    `echo "${MARK} resolv"; cat /etc/resolv.conf; echo "${MARK} end"`,
  ];
  let file = 0;
  const background = (body: string) => lines.push(`( ${body} ) >"$d/out.${String(file++).padStart(3, '0')}" 2>&1 &`);
  for (const job of plan.jobs) {
    const tcp = job.protocol === 'tcp' ? '+tcp' : '+notcp';
    background(`job ${job.id} ${job.count} ${q(job.resolver.address)} ${tcp} ${q(job.name)}`);
  }
  for (const lookup of plan.lookups) background(`lookup ${lookup.id} ${q(lookup.name)}`);
  if (plan.repeated) {
    // Only after a first lookup succeeded: on a broken path each would wait for the C library's timeouts.
    const { name, count } = plan.repeated;
    background(
      `o=$(lookup r.0 ${q(name)}); printf '%s\\n' "$o"; case "$o" in *'${MARK} lookup r.0 0 '*) i=1; while [ "$i" -lt ${count} ]; do lookup "r.$i" ${q(name)}; i=$((i + 1)); done;; esac`,
    );
  }
  if (plan.largeName) {
    background(
      `ns=$(sed -n 's/^nameserver[[:space:]]*//p' /etc/resolv.conf | head -n 1); ask large.udp "$ns" '+notcp +ignore' ${q(plan.largeName)}; ask large.tcp "$ns" +tcp ${q(plan.largeName)}`,
    );
  }
  lines.push('wait', 'cat "$d"/out.* 2>/dev/null', 'rm -rf "$d"');
  return lines.join('\n');
}

export interface ProbeSection {
  readonly kind: string;
  readonly id: string;
  readonly args: readonly string[];
  readonly body: string;
}

/** Splits the probe's output into its sections; lines outside a section are ignored. */
export function parseProbeOutput(text: string): { sections: ProbeSection[]; missing: string[] } {
  const sections: ProbeSection[] = [];
  const missing: string[] = [];
  let current: { kind: string; id: string; args: string[]; body: string[] } | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${MARK} `)) {
      const [kind = '', id = '', ...args] = line
        .slice(MARK.length + 1)
        .trim()
        .split(/\s+/);
      if (kind === 'end') {
        if (current)
          sections.push({ kind: current.kind, id: current.id, args: current.args, body: current.body.join('\n') });
        current = undefined;
      } else if (kind === 'missing') missing.push(id);
      else current = { kind, id, args, body: [] };
      continue;
    }
    current?.body.push(line);
  }
  return { sections, missing };
}

export interface ProbeTarget {
  readonly node: string;
  readonly pod: string;
  readonly podIP: string;
  readonly namespace: string;
}

/** Maps the probe's sections back onto the plan: the node's facts. Pure. */
export function assembleNodeFacts(plan: ProbePlan, target: ProbeTarget, output: string): NodeFacts {
  const { sections, missing } = parseProbeOutput(output);
  const section = (kind: string, id: string) => sections.find((entry) => entry.kind === kind && entry.id === id);
  const resolv = sections.find((entry) => entry.kind === 'resolv');
  const toLookup = (planned: Omit<PlannedLookup, 'id'>, entry: ProbeSection | undefined): LookupFact => {
    const [exitCode = '1', start = '0', end = '0'] = entry?.args ?? [];
    return {
      name: planned.name,
      kind: planned.kind,
      expected: planned.expected,
      isDefault: planned.isDefault,
      result: parseGetent(entry?.body ?? ''),
      exitCode: entry ? Number(exitCode) : -1,
      ms: Math.round((Number(end) - Number(start)) * 1000),
      output: entry?.body ?? '',
    };
  };
  const lookups = plan.lookups.map((planned) => toLookup(planned, section('lookup', planned.id)));
  const repeated: LookupFact[] = [];
  if (plan.repeated) {
    for (let index = 0; index < plan.repeated.count; index++) {
      const entry = section('lookup', `r.${index}`);
      if (!entry) break;
      repeated.push(
        toLookup(
          { name: plan.repeated.name, kind: 'cluster', expected: plan.repeated.expected, isDefault: false },
          entry,
        ),
      );
    }
  }
  const query = (
    job: Pick<PlannedJob, 'name' | 'protocol' | 'scope' | 'expected'>,
    entry: ProbeSection,
  ): QueryFact => ({
    name: job.name,
    protocol: job.protocol,
    scope: job.scope,
    expected: job.expected,
    result: parseDig(entry.body),
    output: entry.body,
  });
  const hops: HopFacts[] = [];
  for (const job of plan.jobs) {
    const queries: QueryFact[] = [];
    for (let index = 0; index < job.count; index++) {
      const entry = section('dig', `${job.id}.${index}`);
      if (!entry) break;
      queries.push(query(job, entry));
    }
    const hop = hops.find((existing) => existing.resolver === job.resolver);
    if (hop) (hop.queries as QueryFact[]).push(...queries);
    else hops.push({ resolver: job.resolver, queries });
  }
  const largeUdp = section('dig', 'large.udp');
  const largeTcp = section('dig', 'large.tcp');
  const large = (protocol: Protocol, entry: ProbeSection) =>
    query({ name: plan.largeName ?? '', protocol, scope: 'external', expected: [] }, entry);
  return {
    ...target,
    resolvConfText: resolv?.body,
    resolvConf: resolv ? parseResolvConf(resolv.body) : undefined,
    lookups,
    repeated,
    hops,
    largeAnswer: largeUdp && largeTcp ? { udp: large('udp', largeUdp), tcp: large('tcp', largeTcp) } : undefined,
    missingTools: missing,
  };
}
