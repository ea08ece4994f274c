/**
 * Facts → findings for `kubectl netdiag dns`. Pure: the engine gathers ClusterFacts and NodeFacts, these functions
 * decide. Node findings have subject `node/<node>`, cluster findings `cluster`; ids come from ids.ts.
 *
 * The cause rules read the hops in path order (pod → node-local cache → kube-dns ClusterIP → CoreDNS pods → upstream)
 * and name the first broken one whose next hop still works: that is where the lookup dies.
 */
import { trimOutput, type Evidence, type Finding, type MetricValue, type Status } from '../findings/model.js';
import { DnsIds } from './ids.js';
import { answerAddresses } from './parse.js';
import type {
  ClusterFacts,
  HopFacts,
  HopRole,
  LookupFact,
  NodeFacts,
  Protocol,
  QueryFact,
  QueryScope,
} from './facts.js';

/** A resolver answering slower than this (median) makes lookups visibly slow; in-cluster DNS answers in a few ms. */
export const SLOW_MEDIAN_MS = 250;
/** A p95 above this, with a fast median, is a resolver that stalls now and then. */
export const SLOW_P95_MS = 2000;
/** glibc's resolver timeout is 5 s: a lookup this long lost a packet and waited for the retry. */
export const RETRY_OUTLIER_MS = 4500;
/** glibc reads at most 3 nameservers (MAXNS). */
export const GLIBC_MAX_NAMESERVERS = 3;
/** glibc before 2.26 and musl read at most 6 search domains. */
export const OLD_LIBC_MAX_SEARCH = 6;

export const nodeSubject = (node: string): string => `node/${node}`;
export const CLUSTER_SUBJECT = 'cluster';

const ROLE_NAMES: Readonly<Record<HopRole, string>> = {
  nodelocal: 'node-local cache',
  clusterip: 'kube-dns ClusterIP',
  'coredns-pod': 'CoreDNS pods',
  upstream: 'upstream resolvers',
};

const HOP_IDS: Readonly<Record<HopRole, string>> = {
  nodelocal: DnsIds.hopNodeLocal,
  clusterip: DnsIds.hopClusterIp,
  'coredns-pod': DnsIds.hopCorednsPod,
  upstream: DnsIds.hopUpstream,
};

// ---------------------------------------------------------------------------------------------------------------
// small helpers

function finding(
  id: string,
  subject: string,
  status: Status,
  summary: string,
  evidence: readonly Evidence[] = [],
  extra: { hint?: string; metrics?: Record<string, MetricValue> } = {},
): Finding {
  return {
    id,
    subject,
    status,
    summary,
    evidence,
    ...(extra.hint ? { hint: extra.hint } : {}),
    ...(extra.metrics ? { metrics: extra.metrics } : {}),
  };
}

/** Median and 95th percentile (nearest rank) of a sample; undefined for an empty one. */
export function percentiles(values: readonly number[]): { median: number; p95: number } | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, p95: rank(0.95) };
}

/**
 * A query got the answer it should: NOERROR and, when addresses are expected, one of them. An uncached name only
 * needs a reply from the upstream: NXDOMAIN is its usual answer, SERVFAIL is CoreDNS giving up on it.
 */
export function queryAnswered(query: QueryFact): boolean {
  if (query.scope === 'uncached') return query.result.rcode === 'NOERROR' || query.result.rcode === 'NXDOMAIN';
  if (query.result.rcode !== 'NOERROR') return false;
  const addresses = answerAddresses(query.result);
  if (addresses.length === 0) return false;
  return query.expected.length === 0 || query.expected.some((address) => addresses.includes(address));
}

/** What went wrong with a query, in a few words: `timed out`, `SERVFAIL`, `answered 10.0.0.9, expected 10.233.0.1`. */
export function queryProblem(query: QueryFact): string {
  const { result } = query;
  if (result.failure === 'timeout') return 'timed out';
  if (result.failure === 'refused') return 'connection refused';
  if (result.failure === 'unreachable') return 'unreachable';
  if (result.failure) return result.failureText ?? 'no answer';
  if (result.rcode !== 'NOERROR') return result.rcode ?? 'no answer';
  const addresses = answerAddresses(result);
  if (addresses.length === 0) return 'no address in the answer';
  return `answered ${addresses.join(', ')}, expected ${query.expected.join(' or ')}`;
}

const queryEvidence = (where: string, resolver: string, query: QueryFact): Evidence => ({
  where,
  command: `dig @${resolver} ${query.name} A${query.protocol === 'tcp' ? ' +tcp' : ''}`,
  output: trimOutput(query.output, 12),
});

/** Where a node's probe ran, as evidence names it. */
const probeWhere = (facts: NodeFacts): string => `pod ${facts.namespace}/${facts.pod}`;

const lookupEvidence = (where: string, lookup: LookupFact): Evidence => ({
  where,
  command: `getent ahosts ${lookup.name}`,
  output: trimOutput(lookup.output || `(no output, exit ${lookup.exitCode})`, 6),
});

/** A lookup through the C library found what it should. */
export function lookupResolved(lookup: LookupFact): boolean {
  if (lookup.exitCode !== 0 || lookup.result.addresses.length === 0) return false;
  return lookup.expected.length === 0 || lookup.expected.some((address) => lookup.result.addresses.includes(address));
}

/** The exit status of a lookup the probe killed at its deadline (SIGTERM). */
const KILLED_AT_DEADLINE = 143;

function lookupProblem(lookup: LookupFact): string {
  if (lookup.result.addresses.length === 0) {
    if (lookup.exitCode === 2) return 'not found';
    if (lookup.exitCode === KILLED_AT_DEADLINE) return `no answer within ${(lookup.ms / 1000).toFixed(0)} s`;
    return `no address (exit ${lookup.exitCode})`;
  }
  return `got ${lookup.result.addresses.join(', ')}, expected ${lookup.expected.join(' or ')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// hop state: what the cause rules compare

export type HopState = 'ok' | 'partial' | 'failed' | 'untested';

/** How a hop did for one scope of names: every query answered, some, none, or none sent. */
export function hopState(hops: readonly HopFacts[], role: HopRole, scope: QueryScope): HopState {
  const queries = hops.filter((hop) => hop.resolver.role === role).flatMap((hop) => hop.queries);
  const relevant = queries.filter((query) => query.scope === scope);
  if (relevant.length === 0) return 'untested';
  const answered = relevant.filter(queryAnswered).length;
  if (answered === relevant.length) return 'ok';
  return answered === 0 ? 'failed' : 'partial';
}

/** CoreDNS pods, each on its own: one answering is enough for "the pod network reaches CoreDNS". */
function corednsPodStates(hops: readonly HopFacts[]): { label: string; address: string; ok: boolean }[] {
  return hops
    .filter((hop) => hop.resolver.role === 'coredns-pod')
    .map((hop) => ({
      label: hop.resolver.label,
      address: hop.resolver.address,
      ok: hop.queries.filter((query) => query.scope === 'cluster').some(queryAnswered),
    }));
}

export interface HopLatency {
  readonly role: HopRole;
  readonly address: string;
  readonly label: string;
  readonly protocol: Protocol;
  readonly queries: number;
  readonly answered: number;
  /** Queries that never got any answer (timeouts, refusals). */
  readonly unanswered: number;
  readonly medianMs: number | undefined;
  readonly p95Ms: number | undefined;
}

/**
 * The queries that measure a hop itself: cluster names for the cache, the ClusterIP and CoreDNS (an external name
 * through them also measures everything behind them), external names for the upstream.
 */
const ownQueries = (hop: HopFacts): readonly QueryFact[] =>
  hop.queries.filter((query) => query.scope === (hop.resolver.role === 'upstream' ? 'external' : 'cluster'));

/** Latency per resolver and protocol, from dig's query times of the hop's own answered queries. */
export function hopLatencies(hops: readonly HopFacts[]): HopLatency[] {
  const rows: HopLatency[] = [];
  for (const hop of hops) {
    for (const protocol of ['udp', 'tcp'] as const) {
      const queries = ownQueries(hop).filter((query) => query.protocol === protocol);
      if (queries.length === 0) continue;
      const times = queries
        .filter((query) => query.result.rcode !== undefined && query.result.queryTimeMs !== undefined)
        .map((query) => query.result.queryTimeMs ?? 0);
      const stats = percentiles(times);
      rows.push({
        role: hop.resolver.role,
        address: hop.resolver.address,
        label: hop.resolver.label,
        protocol,
        queries: queries.length,
        answered: queries.filter(queryAnswered).length,
        unanswered: queries.filter((query) => query.result.rcode === undefined).length,
        medianMs: stats?.median,
        p95Ms: stats?.p95,
      });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// per node

export interface NodeCheckContext {
  readonly cluster: ClusterFacts;
  /** The namespace the probe pods run in (their search list starts with `<ns>.svc.<domain>`). */
  readonly namespace: string;
}

function resolvConfFinding(facts: NodeFacts, context: NodeCheckContext): Finding {
  const subject = nodeSubject(facts.node);
  const where = probeWhere(facts);
  const conf = facts.resolvConf;
  if (!conf) return finding(DnsIds.resolvConf, subject, 'fail', 'could not read /etc/resolv.conf in the probe pod');
  const { cluster } = context;
  const evidence = [{ where, command: 'cat /etc/resolv.conf', output: trimOutput(facts.resolvConfText ?? '') }];
  const metrics = {
    nameserver: conf.nameservers[0] ?? '',
    nameservers: conf.nameservers.length,
    searchDomains: conf.search.length,
    ndots: conf.ndots ?? 1,
  };
  const first = conf.nameservers[0];
  const knownAs =
    first === cluster.nodeLocal?.address
      ? 'the node-local cache'
      : first === cluster.kubeDns.ip
        ? 'kube-dns'
        : undefined;
  const problems: string[] = [];
  const warnings: string[] = [];
  if (!first) problems.push('no nameserver');
  else if (!knownAs)
    problems.push(
      `nameserver ${first} is neither kube-dns (${cluster.kubeDns.ip})${cluster.nodeLocal ? ` nor the node-local cache (${cluster.nodeLocal.address})` : ''}`,
    );
  const expectedFirstSearch = `${context.namespace}.svc.${cluster.domain}`;
  if (conf.search[0] !== expectedFirstSearch)
    problems.push(`search list starts with ${conf.search[0] ?? '(nothing)'}, expected ${expectedFirstSearch}`);
  if (conf.nameservers.length > GLIBC_MAX_NAMESERVERS)
    warnings.push(`${conf.nameservers.length} nameservers: glibc uses only the first ${GLIBC_MAX_NAMESERVERS}`);
  if (conf.search.length > OLD_LIBC_MAX_SEARCH)
    warnings.push(`${conf.search.length} search domains: musl and glibc before 2.26 use only ${OLD_LIBC_MAX_SEARCH}`);
  const description = `nameserver ${first ?? '-'}${knownAs ? ` (${knownAs})` : ''}, search ${conf.search.join(' ') || '-'}, ndots:${conf.ndots ?? 1}`;
  if (problems.length > 0)
    return finding(DnsIds.resolvConf, subject, 'fail', `${problems.join('; ')} (${description})`, evidence, {
      hint: 'check kubelet’s clusterDNS and clusterDomain (/var/lib/kubelet/config.yaml) on this node, and the pod’s dnsPolicy/dnsConfig',
      metrics,
    });
  if (warnings.length > 0)
    return finding(DnsIds.resolvConf, subject, 'warn', `${warnings.join('; ')} (${description})`, evidence, {
      hint: 'trim the node’s resolv.conf (kubelet --resolv-conf) or the pod’s dnsConfig',
      metrics,
    });
  return finding(DnsIds.resolvConf, subject, 'pass', description, evidence, { metrics });
}

function lookupFinding(
  facts: NodeFacts,
  id: string,
  lookups: readonly LookupFact[],
  what: string,
  hint: string,
): Finding | undefined {
  if (lookups.length === 0) return undefined;
  const subject = nodeSubject(facts.node);
  const where = probeWhere(facts);
  const failed = lookups.filter((lookup) => !lookupResolved(lookup));
  const metrics = { names: lookups.length, failed: failed.length };
  if (failed.length === 0) {
    const shown = lookups.map((lookup) => `${lookup.name} → ${lookup.result.addresses[0]}`).join(', ');
    return finding(
      id,
      subject,
      'pass',
      `${what} resolve: ${shown}`,
      lookups.map((l) => lookupEvidence(where, l)),
      {
        metrics,
      },
    );
  }
  const summary = failed.map((lookup) => `${lookup.name}: ${lookupProblem(lookup)}`).join('; ');
  return finding(
    id,
    subject,
    'fail',
    `${what} do not resolve: ${summary}`,
    failed.map((l) => lookupEvidence(where, l)),
    {
      hint,
      metrics,
    },
  );
}

/** No cluster name resolves on the node: every other lookup there fails for that reason first. */
function clusterNamesFail(facts: NodeFacts): boolean {
  const names = facts.lookups.filter((lookup) => lookup.kind === 'cluster');
  return names.length > 0 && !names.some(lookupResolved);
}

function externalFinding(facts: NodeFacts): Finding {
  const subject = nodeSubject(facts.node);
  const external = facts.lookups.filter((lookup) => lookup.kind === 'external');
  if (external.length === 0)
    return finding(DnsIds.lookupExternal, subject, 'skip', 'no external name to look up (--no-external)');
  const requested = external.filter((lookup) => !lookup.isDefault);
  const defaults = external.filter((lookup) => lookup.isDefault);
  // An unresolvable default name means an air-gapped cluster, which is not a fault: only names asked for can fail.
  if (requested.length === 0 && !defaults.some(lookupResolved)) {
    const where = probeWhere(facts);
    // When cluster names fail too, the node's resolver is what is broken: asking about air gaps would mislead.
    const why = clusterNamesFail(facts)
      ? ', nor do cluster names on this node: see dns.lookup.cluster'
      : ': an air-gapped cluster?';
    return finding(
      DnsIds.lookupExternal,
      subject,
      'skip',
      `the default external name ${defaults.map((l) => l.name).join(', ')} does not resolve (${defaults.map(lookupProblem).join('; ')})${why}`,
      defaults.map((lookup) => lookupEvidence(where, lookup)),
      { hint: 'pass --external NAME with a name your cluster should resolve, or --no-external' },
    );
  }
  return (
    lookupFinding(
      facts,
      DnsIds.lookupExternal,
      requested.length > 0 ? requested : defaults,
      'external names',
      'see the upstream hop and CoreDNS’s forward target (kubectl -n kube-system get configmap coredns -o yaml)',
    ) ?? finding(DnsIds.lookupExternal, subject, 'skip', 'no external name')
  );
}

function podFinding(facts: NodeFacts, context: NodeCheckContext): Finding | undefined {
  const lookups = facts.lookups.filter((lookup) => lookup.kind === 'pod');
  if (lookups.length === 0) return undefined;
  const mode = context.cluster.corefile?.podsMode;
  const subject = nodeSubject(facts.node);
  const where = probeWhere(facts);
  const failed = lookups.filter((lookup) => !lookupResolved(lookup));
  if (failed.length === 0)
    return finding(DnsIds.lookupPod, subject, 'pass', `pod name ${lookups[0]?.name} resolves`, [], {
      metrics: { podsMode: mode ?? 'unknown' },
    });
  const evidence = failed.map((lookup) => lookupEvidence(where, lookup));
  if (mode === 'disabled')
    return finding(
      DnsIds.lookupPod,
      subject,
      'warn',
      `pod name ${failed[0]?.name} does not resolve: the Corefile's kubernetes plugin has no "pods insecure|verified"`,
      evidence,
      {
        hint: 'add `pods insecure` (or `pods verified`) to the kubernetes block of the coredns ConfigMap if workloads use pod DNS names',
        metrics: { podsMode: mode },
      },
    );
  return finding(
    DnsIds.lookupPod,
    subject,
    'fail',
    `pod name ${failed[0]?.name} does not resolve (${lookupProblem(failed[0] as LookupFact)}) although the Corefile has pods ${mode ?? 'unknown'}`,
    evidence,
    {
      hint: clusterNamesFail(facts)
        ? 'cluster names fail on this node too: the hop findings (dns.hop.*) say where lookups stop'
        : 'check the CoreDNS logs and its RBAC (pods list/watch for `pods verified`)',
      metrics: { podsMode: mode ?? 'unknown' },
    },
  );
}

/** One line per resolver whose queries failed, with evidence; counts over all of them. */
function hopProblems(
  where: string,
  entries: readonly { label: string; address: string; queries: readonly QueryFact[] }[],
) {
  const broken: string[] = [];
  const evidence: Evidence[] = [];
  let answered = 0;
  let total = 0;
  for (const entry of entries) {
    const failures = entry.queries.filter((query) => !queryAnswered(query));
    total += entry.queries.length;
    answered += entry.queries.length - failures.length;
    if (failures.length === 0) continue;
    const problems = [...new Set(failures.map((query) => `${query.protocol.toUpperCase()} ${queryProblem(query)}`))];
    broken.push(
      `${entry.label} ${entry.address}: ${failures.length}/${entry.queries.length} failed (${problems.join(', ')})`,
    );
    const sample = failures[0];
    if (sample) evidence.push(queryEvidence(where, entry.address, sample));
  }
  return { broken, evidence, answered, total };
}

function hopFinding(facts: NodeFacts, role: Exclude<HopRole, 'upstream'>): Finding | undefined {
  const hops = facts.hops.filter((hop) => hop.resolver.role === role);
  if (hops.length === 0) return undefined;
  const id = HOP_IDS[role];
  const subject = nodeSubject(facts.node);
  const entries = hops.map((hop) => ({
    label: hop.resolver.label,
    address: hop.resolver.address,
    queries: ownQueries(hop),
  }));
  const { broken, evidence, answered, total } = hopProblems(`pod ${facts.namespace}/${facts.pod}`, entries);
  const addresses = hops.map((hop) => hop.resolver.address).join(', ');
  const metrics = { resolvers: hops.length, queries: total, answered, address: addresses };
  if (total === 0) return finding(id, subject, 'skip', `no query sent to the ${ROLE_NAMES[role]}`);
  if (broken.length === 0)
    return finding(
      id,
      subject,
      'pass',
      `${ROLE_NAMES[role]} (${addresses}) answered ${answered}/${total} queries for cluster names over UDP and TCP`,
      [],
      {
        metrics,
      },
    );
  // Part of the CoreDNS pods failing is a degraded service (the ClusterIP spreads over them), not an outage.
  const status: Status = role === 'coredns-pod' && broken.length < hops.length ? 'warn' : 'fail';
  return finding(id, subject, status, broken.join('; '), evidence, { hint: hopHint(role), metrics });
}

/**
 * The upstream, seen two ways: through each CoreDNS pod (an external name makes CoreDNS ask its upstream: CoreDNS's
 * own point of view) and straight from the pod when the forward target is an address. Through CoreDNS, a name no
 * cache has seen is what tells a live upstream from cached answers: none of those answered fails the hop even while
 * the external names still resolve. An external name that is only the built-in default and resolves nowhere means an
 * air-gapped cluster: skipped, not failed.
 */
function upstreamFinding(facts: NodeFacts): Finding | undefined {
  const subject = nodeSubject(facts.node);
  const external = facts.lookups.filter((lookup) => lookup.kind === 'external');
  const viaCoredns = facts.hops
    .filter((hop) => hop.resolver.role === 'coredns-pod')
    .map((hop) => ({
      label: `via ${hop.resolver.label}`,
      address: hop.resolver.address,
      queries: hop.queries.filter((q) => q.scope === 'external' || q.scope === 'uncached'),
    }))
    .filter((entry) => entry.queries.length > 0);
  const direct = facts.hops
    .filter((hop) => hop.resolver.role === 'upstream')
    .map((hop) => ({ label: 'upstream', address: hop.resolver.address, queries: ownQueries(hop) }));
  if (viaCoredns.length + direct.length === 0)
    return external.length === 0
      ? undefined
      : finding(DnsIds.hopUpstream, subject, 'skip', 'no CoreDNS pod or upstream address to ask');
  if (external.every((lookup) => lookup.isDefault) && !external.some(lookupResolved))
    return finding(
      DnsIds.hopUpstream,
      subject,
      'skip',
      `the default external name ${external.map((l) => l.name).join(', ')} resolves nowhere: not checked (air-gapped?)`,
      [],
      {
        hint: 'pass --external NAME with a name your cluster should resolve',
      },
    );
  const where = probeWhere(facts);
  const through = hopProblems(where, viaCoredns);
  const straight = hopProblems(where, direct);
  const metrics = {
    viaCorednsAnswered: through.answered,
    viaCorednsQueries: through.total,
    directAnswered: straight.answered,
    directQueries: straight.total,
    address: direct.map((entry) => entry.address).join(', '),
  };
  const uncached = viaCoredns.flatMap((entry) => entry.queries.filter((q) => q.scope === 'uncached'));
  const upstreamSilent = uncached.length > 0 && !uncached.some(queryAnswered);
  if (through.broken.length > 0 && (through.answered === 0 || straight.broken.length > 0 || upstreamSilent))
    return finding(
      DnsIds.hopUpstream,
      subject,
      'fail',
      `${through.answered > 0 && upstreamSilent ? 'the upstream does not answer (a name no cache has seen gets no reply; cached names still resolve)' : 'external names fail'}: ${[...through.broken, ...straight.broken].join('; ')}`,
      [...through.evidence, ...straight.evidence],
      {
        hint: hopHint('upstream'),
        metrics,
      },
    );
  if (through.broken.length + straight.broken.length > 0)
    return finding(
      DnsIds.hopUpstream,
      subject,
      'warn',
      [...through.broken, ...straight.broken].join('; '),
      [...through.evidence, ...straight.evidence],
      {
        hint:
          straight.broken.length > 0
            ? 'pods cannot reach the upstream directly (CoreDNS can): fine unless workloads bypass cluster DNS'
            : hopHint('upstream'),
        metrics,
      },
    );
  return finding(
    DnsIds.hopUpstream,
    subject,
    'pass',
    `external names resolve through ${viaCoredns.length} CoreDNS pod(s)${direct.length ? ` and straight from the pod at ${metrics.address}` : ''}`,
    [],
    {
      metrics,
    },
  );
}

function hopHint(role: HopRole): string {
  switch (role) {
    case 'nodelocal':
      return 'check the node-local DNS cache pod on this node: kubectl -n kube-system get pods -l k8s-app=nodelocaldns -o wide';
    case 'clusterip':
      return 'check kube-proxy on this node (its Service rules for kube-dns) and kubectl -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns';
    case 'coredns-pod':
      return 'check the CoreDNS pods and the pod network from this node: kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide';
    case 'upstream':
      return 'check the upstream resolvers CoreDNS forwards to (forward in the coredns ConfigMap) and the route to them';
  }
}

function largeAnswerFinding(facts: NodeFacts): Finding | undefined {
  const large = facts.largeAnswer;
  if (!large) return undefined;
  const subject = nodeSubject(facts.node);
  const where = probeWhere(facts);
  const resolver = large.tcp.result.server ?? 'resolver';
  const records = large.tcp.result.answers.length;
  const metrics = { name: large.tcp.name, records, udpTruncated: large.udp.result.truncated };
  if (!queryAnswered(large.tcp))
    return finding(
      DnsIds.largeAnswer,
      subject,
      'fail',
      `${large.tcp.name} over TCP: ${queryProblem(large.tcp)}`,
      [queryEvidence(where, resolver, large.tcp)],
      {
        hint: 'DNS over TCP must work end to end (kube-dns 53/TCP, the node cache, CoreDNS): answers larger than UDP allows need it',
        metrics,
      },
    );
  return finding(
    DnsIds.largeAnswer,
    subject,
    'pass',
    `${large.tcp.name}: ${records} records over TCP${large.udp.result.truncated ? ' (truncated over UDP, as expected)' : ''}`,
    [],
    { metrics },
  );
}

function latencyFinding(facts: NodeFacts): Finding | undefined {
  const rows = hopLatencies(facts.hops).filter((row) => row.medianMs !== undefined);
  if (rows.length === 0) return undefined;
  const subject = nodeSubject(facts.node);
  const metrics: Record<string, MetricValue> = {};
  for (const row of rows) {
    const key = `${row.role === 'coredns-pod' ? row.address : row.role}.${row.protocol}`;
    metrics[`${key}.medianMs`] = row.medianMs ?? 0;
    metrics[`${key}.p95Ms`] = row.p95Ms ?? 0;
  }
  const slow = rows.filter((row) => (row.medianMs ?? 0) >= SLOW_MEDIAN_MS || (row.p95Ms ?? 0) >= SLOW_P95_MS);
  const describe = (row: HopLatency) =>
    `${row.label} ${row.address} ${row.protocol.toUpperCase()} median ${row.medianMs} ms, p95 ${row.p95Ms} ms`;
  if (slow.length === 0) {
    const worst = rows.reduce((a, b) => ((b.medianMs ?? 0) > (a.medianMs ?? 0) ? b : a));
    return finding(DnsIds.latency, subject, 'pass', `every resolver answers fast (slowest: ${describe(worst)})`, [], {
      metrics,
    });
  }
  const roles = [...new Set(slow.map((row) => ROLE_NAMES[row.role]))];
  metrics.slow = roles.join(',');
  return finding(DnsIds.latency, subject, 'warn', `slow: ${slow.map(describe).join('; ')}`, [], {
    hint: 'see dns.cause.slow; CoreDNS CPU (kubectl -n kube-system top pods -l k8s-app=kube-dns) and its upstream',
    metrics,
  });
}

function conntrackRaceFinding(facts: NodeFacts): Finding | undefined {
  if (facts.repeated.length === 0) return undefined;
  const subject = nodeSubject(facts.node);
  // A lookup that failed waited for the C library's timeouts on a broken path, not for one lost query's retry:
  // the path is named by the lookup and hop findings, and the race can only be told from lookups that resolved.
  const runs = facts.repeated.filter(lookupResolved);
  if (runs.length === 0)
    return finding(
      DnsIds.conntrackRace,
      subject,
      'skip',
      `not measured: ${facts.repeated[0]?.name} does not resolve through the C library (see dns.lookup.cluster)`,
      facts.repeated.slice(0, 1).map((lookup) => lookupEvidence(probeWhere(facts), lookup)),
    );
  const outliers = runs.filter((lookup) => lookup.ms >= RETRY_OUTLIER_MS);
  const metrics = {
    lookups: runs.length,
    outliers: outliers.length,
    medianMs: percentiles(runs.map((lookup) => lookup.ms))?.median ?? 0,
  };
  if (outliers.length === 0)
    return finding(
      DnsIds.conntrackRace,
      subject,
      'pass',
      `${runs.length} lookups of ${runs[0]?.name} through the C library, none waited for a retry`,
      [],
      {
        metrics,
      },
    );
  const conf = facts.resolvConf;
  const mitigated = conf?.singleRequestReopen || conf?.singleRequest;
  return finding(
    DnsIds.conntrackRace,
    subject,
    'warn',
    `${outliers.length}/${runs.length} lookups of ${runs[0]?.name} took ≈5 s (${outliers.map((l) => `${(l.ms / 1000).toFixed(1)} s`).join(', ')}): a query was lost and the C library waited for its retry`,
    [],
    {
      hint: mitigated
        ? 'queries are lost although single-request(-reopen) is set: check conntrack (conntrack -S insert_failed) and packet loss on this node'
        : 'the conntrack race on parallel A/AAAA queries over UDP (kubernetes#56903): use a node-local DNS cache, or `options single-request-reopen` in the pod’s dnsConfig',
      metrics,
    },
  );
}

/** Every finding about one node, causes excluded (they compare nodes: see causeFindings). */
export function nodeFindings(facts: NodeFacts, context: NodeCheckContext): Finding[] {
  const subject = nodeSubject(facts.node);
  if (facts.missingTools.length > 0)
    return [
      finding(DnsIds.lookupCluster, subject, 'skip', `the probe image has no ${facts.missingTools.join(', ')}`, [], {
        hint: 'use an image with dig and getent (--image; the default tools image or infoblox/dnstools)',
      }),
    ];
  const clusterLookups = facts.lookups.filter((lookup) => lookup.kind === 'cluster' || lookup.kind === 'name');
  return [
    resolvConfFinding(facts, context),
    lookupFinding(
      facts,
      DnsIds.lookupCluster,
      clusterLookups,
      'cluster names',
      'the hop findings (dns.hop.*) say where the lookup stops',
    ),
    podFinding(facts, context),
    externalFinding(facts),
    ...(['nodelocal', 'clusterip', 'coredns-pod'] as const).map((role) => hopFinding(facts, role)),
    upstreamFinding(facts),
    largeAnswerFinding(facts),
    latencyFinding(facts),
    conntrackRaceFinding(facts),
  ].filter((entry): entry is Finding => entry !== undefined);
}

// ---------------------------------------------------------------------------------------------------------------
// symptom → cause

interface NodeVerdict {
  readonly node: string;
  readonly clusterNamesFail: boolean;
  readonly externalFail: boolean;
  readonly nodelocal: HopState;
  readonly clusterip: HopState;
  readonly corednsPods: readonly { label: string; address: string; ok: boolean }[];
  readonly corednsExternal: HopState;
  readonly upstream: HopState;
  /**
   * CoreDNS gets no reply for names no cache has seen, or none for the external names while the pods asking the
   * upstream straight get none either (or cannot ask it).
   */
  readonly upstreamSilent: boolean;
  readonly slowCoredns: readonly HopLatency[];
  readonly slowUpstream: boolean;
  readonly upstreamMedianMs: number;
  readonly fastNodeLocal: boolean;
}

function verdict(facts: NodeFacts): NodeVerdict {
  const externals = facts.lookups.filter((lookup) => lookup.kind === 'external' && !lookup.isDefault);
  const clusterLookups = facts.lookups.filter((lookup) => lookup.kind === 'cluster' || lookup.kind === 'name');
  const latencies = hopLatencies(facts.hops);
  const slow = (row: HopLatency) => (row.medianMs ?? 0) >= SLOW_MEDIAN_MS;
  // The upstream's latency asked straight when its address is known (several samples), else through CoreDNS.
  const upstreamRows = latencies.filter((row) => row.role === 'upstream' && row.medianMs !== undefined);
  const externalTimes =
    upstreamRows.length > 0
      ? upstreamRows.map((row) => row.medianMs ?? 0)
      : facts.hops
          .filter((hop) => hop.resolver.role === 'coredns-pod')
          .flatMap((hop) => hop.queries.filter((query) => query.scope === 'external' && queryAnswered(query)))
          .map((query) => query.result.queryTimeMs ?? 0);
  return {
    node: facts.node,
    clusterNamesFail: clusterLookups.some((lookup) => !lookupResolved(lookup)),
    externalFail: externals.length > 0 && externals.some((lookup) => !lookupResolved(lookup)),
    nodelocal: hopState(facts.hops, 'nodelocal', 'cluster'),
    clusterip: hopState(facts.hops, 'clusterip', 'cluster'),
    corednsPods: corednsPodStates(facts.hops),
    corednsExternal: hopState(facts.hops, 'coredns-pod', 'external'),
    upstream: hopState(facts.hops, 'upstream', 'external'),
    // Only for names known to resolve: a default external name resolving nowhere is an air-gapped cluster.
    upstreamSilent:
      (externals.length > 0 || facts.lookups.some((lookup) => lookup.kind === 'external' && lookupResolved(lookup))) &&
      (hopState(facts.hops, 'coredns-pod', 'uncached') === 'failed' ||
        (hopState(facts.hops, 'coredns-pod', 'external') === 'failed' &&
          hopState(facts.hops, 'upstream', 'external') !== 'ok')),
    slowCoredns: latencies.filter((row) => (row.role === 'coredns-pod' || row.role === 'clusterip') && slow(row)),
    slowUpstream: (percentiles(externalTimes)?.median ?? 0) >= SLOW_MEDIAN_MS,
    upstreamMedianMs: percentiles(externalTimes)?.median ?? 0,
    fastNodeLocal: latencies.some((row) => row.role === 'nodelocal' && !slow(row)),
  };
}

const broken = (state: HopState) => state === 'failed' || state === 'partial';

/**
 * Symptom → cause over every node's facts. Per node: node-local cache broken while the ClusterIP answers → the cache;
 * ClusterIP broken while CoreDNS pods answer → kube-proxy's Service rules on that node; CoreDNS pods unreachable
 * from this node only → the pod network between it and CoreDNS. Over the cluster: CoreDNS unreachable from every
 * node (or no Ready endpoint) → CoreDNS; cluster names fine but external names failing at CoreDNS → upstream; slow
 * CoreDNS or upstream answers → slow. Cluster-wide causes get subject `cluster` and also each affected node's.
 */
export function causeFindings(nodes: readonly NodeFacts[], cluster: ClusterFacts): Finding[] {
  const verdicts = nodes.filter((facts) => facts.missingTools.length === 0).map(verdict);
  const findings: Finding[] = [];
  const readyPods = cluster.coredns.pods.filter((pod) => pod.ready).length;
  const corednsDownEverywhere =
    verdicts.length > 0 &&
    verdicts.every((v) => v.corednsPods.length === 0 || v.corednsPods.every((pod) => !pod.ok)) &&
    verdicts.some((v) => v.clusterNamesFail || broken(v.clusterip));
  const corednsDown =
    corednsDownEverywhere || (cluster.coredns.endpoints.length === 0 && verdicts.some((v) => v.clusterNamesFail));

  if (corednsDown) {
    const summary =
      cluster.coredns.endpoints.length === 0
        ? `kube-dns has no ready endpoint (${readyPods}/${cluster.coredns.pods.length} CoreDNS pods Ready): no node can resolve cluster names`
        : `no CoreDNS pod answers from any node (${readyPods}/${cluster.coredns.pods.length} Ready)`;
    const hint =
      'kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide; kubectl -n kube-system logs -l k8s-app=kube-dns --tail=50';
    const metrics = { readyPods, pods: cluster.coredns.pods.length, endpoints: cluster.coredns.endpoints.length };
    findings.push(finding(DnsIds.causeCoredns, CLUSTER_SUBJECT, 'fail', summary, [], { hint, metrics }));
    for (const v of verdicts.filter((entry) => entry.clusterNamesFail || broken(entry.clusterip)))
      findings.push(
        finding(
          DnsIds.causeCoredns,
          nodeSubject(v.node),
          'fail',
          `cluster names fail here because CoreDNS is down: ${summary}`,
          [],
          { hint, metrics },
        ),
      );
  }

  for (const v of verdicts) {
    const subject = nodeSubject(v.node);
    const podsOk = v.corednsPods.filter((pod) => pod.ok);
    if (corednsDown) continue;
    if (broken(v.clusterip) && podsOk.length > 0) {
      findings.push(
        finding(
          DnsIds.causeKubeProxy,
          subject,
          'fail',
          `the kube-dns ClusterIP ${cluster.kubeDns.ip} does not answer from this node while CoreDNS pods do (${podsOk.map((pod) => pod.address).join(', ')}): kube-proxy's Service rules on this node`,
          [],
          {
            hint: 'check kube-proxy on this node (kubectl -n kube-system logs of its kube-proxy pod; iptables-save -t nat | grep kube-dns or ipvsadm -Ln)',
            metrics: { clusterIP: cluster.kubeDns.ip, corednsPodsAnswering: podsOk.length },
          },
        ),
      );
    } else if (broken(v.nodelocal) && v.clusterip === 'ok') {
      const notReady = cluster.nodeLocal?.daemonSet?.notReadyNodes.includes(v.node);
      findings.push(
        finding(
          DnsIds.causeNodeLocal,
          subject,
          'fail',
          `the node-local DNS cache ${cluster.nodeLocal?.address ?? ''} does not answer on this node while kube-dns ${cluster.kubeDns.ip} does${notReady ? ' (its pod here is not Ready)' : ''}`,
          [],
          {
            hint:
              'kubectl -n kube-system get pods -l k8s-app=nodelocaldns -o wide --field-selector spec.nodeName=' +
              v.node +
              '; its logs and the address on the node',
            metrics: { address: cluster.nodeLocal?.address ?? '', podNotReady: notReady === true },
          },
        ),
      );
    } else if (
      v.corednsPods.length > 0 &&
      podsOk.length === 0 &&
      verdicts.some((other) => other.corednsPods.some((pod) => pod.ok))
    ) {
      findings.push(
        finding(
          DnsIds.causePodNetwork,
          subject,
          'fail',
          `no CoreDNS pod answers from this node while they answer from other nodes: the pod network between this node and CoreDNS`,
          [],
          {
            hint: 'kubectl netdiag check --nodes ' + v.node + ' (pod-to-pod paths from this node)',
            metrics: { corednsPods: v.corednsPods.length },
          },
        ),
      );
    }
  }

  // Caches in front of CoreDNS keep answering external names for up to their TTL after the upstream dies, so a
  // silent upstream is the cause even while the lookups still pass: they stop when the cached answers expire.
  const upstreamNodes = verdicts.filter((v) => (v.externalFail || v.upstreamSilent) && !v.clusterNamesFail);
  if (!corednsDown && upstreamNodes.length > 0) {
    const everywhere =
      upstreamNodes.length === verdicts.filter((v) => v.externalFail || v.upstreamSilent || !v.clusterNamesFail).length;
    const forward = cluster.corefile?.forward.join(' ') || 'its forward target';
    const hint =
      'check the upstream resolvers in the coredns ConfigMap (forward) and that CoreDNS’s nodes can reach them; kubectl -n kube-system logs -l k8s-app=kube-dns | grep -i timeout';
    const summaryOf = (v: NodeVerdict) =>
      v.externalFail
        ? `cluster names resolve but external names fail${broken(v.corednsExternal) ? ' at the CoreDNS pods too' : ''}: CoreDNS's upstream (${forward}) does not answer`
        : `CoreDNS's upstream (${forward}) does not answer: external names still resolve from caches and stop when their answers expire`;
    const first = upstreamNodes[0] as NodeVerdict;
    if (everywhere)
      findings.push(
        finding(DnsIds.causeUpstream, CLUSTER_SUBJECT, 'fail', summaryOf(first), [], {
          hint,
          metrics: { forward, cachedOnly: upstreamNodes.every((v) => !v.externalFail) },
        }),
      );
    for (const v of upstreamNodes)
      findings.push(
        finding(DnsIds.causeUpstream, nodeSubject(v.node), 'fail', summaryOf(v), [], {
          hint,
          metrics: { forward, cachedOnly: !v.externalFail },
        }),
      );
  }

  const slowNodes = verdicts.filter((v) => v.slowCoredns.length > 0 || v.slowUpstream);
  if (!corednsDown && slowNodes.length > 0) {
    for (const v of slowNodes) {
      const corednsSlow = v.slowCoredns.length > 0;
      const worst = v.slowCoredns.reduce<HopLatency | undefined>(
        (a, b) => (!a || (b.medianMs ?? 0) > (a.medianMs ?? 0) ? b : a),
        undefined,
      );
      const summary = corednsSlow
        ? `CoreDNS answers slowly (${worst?.label} ${worst?.address}: median ${worst?.medianMs} ms)${v.fastNodeLocal ? ', the node-local cache answers cached names fast' : ''}: CoreDNS is overloaded or throttled`
        : `the upstream resolver answers slowly (median ${v.upstreamMedianMs} ms) while cluster names are fast`;
      findings.push(
        finding(DnsIds.causeSlow, nodeSubject(v.node), 'warn', summary, [], {
          hint: corednsSlow
            ? 'kubectl -n kube-system top pods -l k8s-app=kube-dns; scale CoreDNS (replicas or the dns-autoscaler) or raise its CPU limit'
            : 'check the upstream resolvers CoreDNS forwards to; a node-local cache hides part of it',
          metrics: {
            slow: corednsSlow ? 'coredns' : 'upstream',
            medianMs: corednsSlow ? (worst?.medianMs ?? 0) : v.upstreamMedianMs,
          },
        }),
      );
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------------------------
// cluster side

function corednsFinding(cluster: ClusterFacts): Finding {
  const { pods, endpoints, desired } = cluster.coredns;
  const ready = pods.filter((pod) => pod.ready);
  const where = pods.map((pod) => `${pod.name} on ${pod.node}${pod.ready ? '' : ' (not Ready)'}`).join(', ') || 'none';
  const metrics = {
    pods: pods.length,
    ready: ready.length,
    endpoints: endpoints.length,
    desired: desired ?? pods.length,
  };
  const evidence = [
    { where: 'API', command: 'kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide', output: where },
  ];
  if (ready.length === 0 || endpoints.length === 0)
    return finding(
      DnsIds.clusterCoredns,
      CLUSTER_SUBJECT,
      'fail',
      `${ready.length}/${pods.length} CoreDNS pods Ready, ${endpoints.length} ready endpoints behind kube-dns`,
      evidence,
      {
        hint: 'kubectl -n kube-system describe pods -l k8s-app=kube-dns; kubectl -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns',
        metrics,
      },
    );
  if (ready.length < (desired ?? pods.length) || ready.length < pods.length)
    return finding(
      DnsIds.clusterCoredns,
      CLUSTER_SUBJECT,
      'warn',
      `${ready.length}/${desired ?? pods.length} CoreDNS pods Ready: ${where}`,
      evidence,
      {
        hint: 'kubectl -n kube-system describe pods -l k8s-app=kube-dns',
        metrics,
      },
    );
  const nodesUsed = new Set(ready.map((pod) => pod.node));
  if (ready.length > 1 && nodesUsed.size === 1)
    return finding(
      DnsIds.clusterCoredns,
      CLUSTER_SUBJECT,
      'warn',
      `all ${ready.length} CoreDNS pods run on one node (${[...nodesUsed][0]}): losing it loses cluster DNS`,
      evidence,
      {
        hint: 'spread CoreDNS with a pod anti-affinity or topology spread constraint on kubernetes.io/hostname',
        metrics,
      },
    );
  return finding(
    DnsIds.clusterCoredns,
    CLUSTER_SUBJECT,
    'pass',
    `${ready.length}/${pods.length} CoreDNS pods Ready (${where}), ${endpoints.length} endpoints behind kube-dns`,
    [],
    { metrics },
  );
}

function serviceFinding(cluster: ClusterFacts): Finding {
  const { kubeDns } = cluster;
  const missing = ['53/UDP', '53/TCP'].filter((port) => !kubeDns.ports.includes(port));
  const name = `${kubeDns.namespace}/${kubeDns.name}`;
  if (missing.length > 0)
    return finding(
      DnsIds.clusterService,
      CLUSTER_SUBJECT,
      'fail',
      `Service ${name} (${kubeDns.ip}) lacks ${missing.join(' and ')} (has ${kubeDns.ports.join(', ')})`,
      [],
      {
        hint: `add the missing port to Service ${name}: DNS needs 53/UDP and, for large answers and the node-local cache, 53/TCP`,
      },
    );
  return finding(
    DnsIds.clusterService,
    CLUSTER_SUBJECT,
    'pass',
    `Service ${name} ${kubeDns.ip} has ${kubeDns.ports.join(', ')}`,
  );
}

function rbacFinding(cluster: ClusterFacts): Finding {
  const denied = cluster.rbacDenied;
  if (denied === undefined)
    return finding(
      DnsIds.clusterRbac,
      CLUSTER_SUBJECT,
      'skip',
      'could not ask what CoreDNS’s service account may do (SubjectAccessReview not allowed for you)',
    );
  if (denied.length > 0)
    return finding(
      DnsIds.clusterRbac,
      CLUSTER_SUBJECT,
      'fail',
      `CoreDNS’s service account may not ${denied.join(', ')}: it answers SERVFAIL for cluster names`,
      [],
      {
        hint: 'restore the system:coredns ClusterRole (list/watch endpointslices, services, pods, namespaces) and its binding',
      },
    );
  return finding(
    DnsIds.clusterRbac,
    CLUSTER_SUBJECT,
    'pass',
    'CoreDNS may list/watch endpointslices, services, pods and namespaces',
  );
}

function corefileFinding(cluster: ClusterFacts): Finding {
  const corefile = cluster.corefile;
  if (!corefile)
    return finding(
      DnsIds.clusterCorefile,
      CLUSTER_SUBJECT,
      'skip',
      'no Corefile found (ConfigMap kube-system/coredns)',
    );
  const description = [
    `forward ${corefile.forward.join(' ') || '(none)'}`,
    `pods ${corefile.podsMode ?? '(no kubernetes plugin)'}`,
    corefile.cache ? `cache ${corefile.cache.successTtl}s/${corefile.cache.denialTtl}s (success/denial)` : 'no cache',
    corefile.loop ? 'loop' : 'no loop plugin',
  ].join(', ');
  const metrics = {
    forward: corefile.forward.join(' '),
    podsMode: corefile.podsMode ?? '',
    loop: corefile.loop,
    cacheSuccessTtl: corefile.cache?.successTtl ?? 0,
    cacheDenialTtl: corefile.cache?.denialTtl ?? 0,
  };
  const problems: string[] = [];
  if (
    !corefile.kubernetesZones.includes(`${cluster.domain}`) &&
    !corefile.kubernetesZones.includes(`${cluster.domain}.`)
  )
    problems.push(`the kubernetes plugin does not serve ${cluster.domain}`);
  if (problems.length > 0)
    return finding(DnsIds.clusterCorefile, CLUSTER_SUBJECT, 'fail', `${problems.join('; ')} (${description})`, [], {
      hint: 'kubectl -n kube-system edit configmap coredns',
      metrics,
    });
  const warnings: string[] = [];
  if (!corefile.loop)
    warnings.push('no loop plugin: a forwarding loop (e.g. to a systemd-resolved stub) would go unnoticed');
  if (corefile.forward.length === 0) warnings.push('no forward: names outside the cluster never resolve');
  if (warnings.length > 0)
    return finding(DnsIds.clusterCorefile, CLUSTER_SUBJECT, 'warn', `${warnings.join('; ')} (${description})`, [], {
      hint: 'kubectl -n kube-system edit configmap coredns',
      metrics,
    });
  return finding(DnsIds.clusterCorefile, CLUSTER_SUBJECT, 'pass', description, [], { metrics });
}

function nodeLocalFinding(cluster: ClusterFacts, nodes: readonly NodeFacts[]): Finding {
  const local = cluster.nodeLocal;
  if (!local)
    return finding(
      DnsIds.clusterNodeLocal,
      CLUSTER_SUBJECT,
      'skip',
      'no node-local DNS cache: pods ask kube-dns directly',
    );
  const users = nodes.filter((facts) => facts.resolvConf?.nameservers[0] === local.address).map((facts) => facts.node);
  const ds = local.daemonSet;
  const metrics = { address: local.address, source: local.source, nodesUsingIt: users.length };
  if (!ds)
    return finding(
      DnsIds.clusterNodeLocal,
      CLUSTER_SUBJECT,
      users.length > 0 ? 'warn' : 'skip',
      `pods use ${local.address} but no node-local DNS DaemonSet was found`,
      [],
      {
        hint: 'kubectl -n kube-system get daemonsets; the cache may run outside Kubernetes',
        metrics,
      },
    );
  const missing = ds.notReadyNodes.filter((node) => users.includes(node));
  if (missing.length > 0)
    return finding(
      DnsIds.clusterNodeLocal,
      CLUSTER_SUBJECT,
      'fail',
      `node-local DNS (${ds.name}, ${local.address}) is not Ready on ${missing.join(', ')}, whose pods use it`,
      [],
      {
        hint: `kubectl -n kube-system get pods -l k8s-app=${ds.name} -o wide`,
        metrics: { ...metrics, ready: ds.ready, desired: ds.desired },
      },
    );
  return finding(
    DnsIds.clusterNodeLocal,
    CLUSTER_SUBJECT,
    'pass',
    `node-local DNS ${ds.name} at ${local.address} (from ${local.source}): ${ds.ready}/${ds.desired} Ready`,
    [],
    {
      metrics: { ...metrics, ready: ds.ready, desired: ds.desired },
    },
  );
}

function logsFinding(cluster: ClusterFacts): Finding {
  const events = cluster.logEvents;
  if (events.length === 0)
    return finding(DnsIds.clusterLogs, CLUSTER_SUBJECT, 'pass', 'no errors in the recent CoreDNS logs');
  const counts: Record<string, number> = {};
  for (const event of events) counts[event.kind] = (counts[event.kind] ?? 0) + 1;
  const evidence = events
    .slice(-5)
    .map((event) => ({ where: `pod kube-system/${event.pod}`, output: trimOutput(event.line, 1) }));
  const severe = (counts.loop ?? 0) > 0 || (counts.forbidden ?? 0) > 0;
  const summary = Object.entries(counts)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
  return finding(
    DnsIds.clusterLogs,
    CLUSTER_SUBJECT,
    severe ? 'fail' : 'warn',
    `recent CoreDNS log errors: ${summary}`,
    evidence,
    {
      hint:
        (counts.loop ?? 0) > 0
          ? 'a forwarding loop: CoreDNS forwards to itself (a node resolv.conf pointing at 127.0.0.53 or at CoreDNS); forward to a real upstream'
          : (counts.forbidden ?? 0) > 0
            ? 'CoreDNS’s RBAC is missing: restore the system:coredns ClusterRole and binding'
            : 'kubectl -n kube-system logs -l k8s-app=kube-dns --tail=100',
      metrics: counts,
    },
  );
}

function autoscalerFinding(cluster: ClusterFacts): Finding {
  const scaler = cluster.autoscaler;
  if (!scaler)
    return finding(
      DnsIds.clusterAutoscaler,
      CLUSTER_SUBJECT,
      'skip',
      'no DNS autoscaler (cluster-proportional-autoscaler) in kube-system',
    );
  if (!scaler.params || scaler.expected === undefined)
    return finding(
      DnsIds.clusterAutoscaler,
      CLUSTER_SUBJECT,
      'warn',
      `${scaler.name}: its parameters (linear or ladder) could not be read`,
      [],
      {
        hint: `kubectl -n kube-system get configmap ${scaler.name} -o yaml`,
      },
    );
  const metrics = {
    expected: scaler.expected,
    actual: scaler.actual,
    nodes: scaler.nodes,
    cores: scaler.cores,
    mode: scaler.params.mode,
  };
  const description = `${scaler.name} (${scaler.params.mode}) gives ${scaler.expected} replicas for ${scaler.nodes} nodes and ${scaler.cores} cores`;
  if (scaler.actual !== scaler.expected)
    return finding(
      DnsIds.clusterAutoscaler,
      CLUSTER_SUBJECT,
      'warn',
      `${description}, CoreDNS has ${scaler.actual}`,
      [],
      {
        hint: `kubectl -n kube-system logs deploy/${scaler.name}: the autoscaler is not running or cannot scale CoreDNS`,
        metrics,
      },
    );
  return finding(
    DnsIds.clusterAutoscaler,
    CLUSTER_SUBJECT,
    'pass',
    `${description}; CoreDNS has ${scaler.actual}`,
    [],
    { metrics },
  );
}

/** The cluster-side findings, once per run. */
export function clusterFindings(cluster: ClusterFacts, nodes: readonly NodeFacts[]): Finding[] {
  return [
    corednsFinding(cluster),
    serviceFinding(cluster),
    rbacFinding(cluster),
    corefileFinding(cluster),
    nodeLocalFinding(cluster, nodes),
    logsFinding(cluster),
    autoscalerFinding(cluster),
  ];
}
