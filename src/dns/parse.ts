/**
 * Pure parsers of what the DNS checks read: a pod's resolv.conf, `dig` and `getent ahosts` output, Corefiles, CoreDNS
 * log lines and the DNS autoscaler's parameters. They are written for what both tool images print — the Debian tools
 * image (BIND 9.18 dig, glibc getent) and Alpine images such as infoblox/dnstools (BIND 9.1x dig, musl getent) — and
 * parse nothing only one of them prints. Tested on real lab output (test/fixtures/dns).
 */

// ---------------------------------------------------------------------------------------------------------------
// resolv.conf

export interface ResolvConf {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
  /** `options ndots:N`; undefined when not set (the C library's default is 1). */
  readonly ndots: number | undefined;
  readonly timeout: number | undefined;
  readonly attempts: number | undefined;
  /** glibc's `single-request-reopen`: A and AAAA from different sockets (avoids the conntrack race). */
  readonly singleRequestReopen: boolean;
  /** glibc's `single-request`: A and AAAA one after the other. */
  readonly singleRequest: boolean;
  /** Option words as written, for evidence. */
  readonly options: readonly string[];
}

/** Parses resolv.conf as the C libraries do: the last `search`/`domain` line wins, `options` accumulate. */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  let search: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [keyword, ...args] = line.split(/\s+/);
    if (keyword === 'nameserver' && args[0]) nameservers.push(args[0]);
    else if (keyword === 'search') search = args;
    else if (keyword === 'domain' && args[0]) search = [args[0]];
    else if (keyword === 'options') options.push(...args);
  }
  const numeric = (name: string): number | undefined => {
    const last = options.filter((option) => option.startsWith(`${name}:`)).at(-1);
    const value = last === undefined ? NaN : Number(last.slice(name.length + 1));
    return Number.isInteger(value) ? value : undefined;
  };
  return {
    nameservers,
    search,
    ndots: numeric('ndots'),
    timeout: numeric('timeout'),
    attempts: numeric('attempts'),
    singleRequestReopen: options.includes('single-request-reopen'),
    singleRequest: options.includes('single-request'),
    options,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// dig

export interface DnsRecord {
  readonly name: string;
  readonly ttl: number;
  readonly type: string;
  readonly data: string;
}

/** Why a query got no answer at all (an answer with SERVFAIL or NXDOMAIN is an answer). */
export type DigFailure = 'timeout' | 'refused' | 'unreachable' | 'error';

export interface DigResult {
  /** The response code (NOERROR, NXDOMAIN, SERVFAIL, REFUSED ...); undefined when no answer came back. */
  readonly rcode: string | undefined;
  readonly flags: readonly string[];
  /** TC: the answer did not fit (UDP); the full answer needs TCP. */
  readonly truncated: boolean;
  readonly answers: readonly DnsRecord[];
  readonly queryTimeMs: number | undefined;
  /** `address#port` of the server that answered. */
  readonly server: string | undefined;
  readonly failure: DigFailure | undefined;
  /** dig's own error line, for evidence. */
  readonly failureText: string | undefined;
}

const HEADER = /->>HEADER<<-\s+opcode:\s*\w+,\s*status:\s*([A-Z]+)/;
const FLAGS = /^;;\s*flags:\s*([a-z ]*);/;
const QUERY_TIME = /^;;\s*Query time:\s*(\d+)\s*(?:msec|ms)/;
const SERVER = /^;;\s*SERVER:\s*(\S+?)(?:\(|\s|$)/;
const RECORD = /^(\S+)\s+(\d+)\s+IN\s+([A-Z0-9]+)\s+(.*)$/;

function digFailure(text: string): { failure: DigFailure; line: string } | undefined {
  const lines = text.split('\n').filter((line) => line.startsWith(';;') || /^dig:|couldn't get address/.test(line));
  const find = (pattern: RegExp) => lines.find((line) => pattern.test(line));
  const refused = find(/connection refused/i);
  if (refused) return { failure: 'refused', line: refused.trim() };
  const unreachable = find(/(host|network) unreachable|no route to host/i);
  if (unreachable) return { failure: 'unreachable', line: unreachable.trim() };
  const timeout = find(/timed out|no servers could be reached/i);
  if (timeout) return { failure: 'timeout', line: timeout.trim() };
  const other = find(/^dig:|couldn't get address|communications error|end of file|network error/i);
  return other ? { failure: 'error', line: other.trim() } : undefined;
}

/**
 * Parses the output of ONE dig query run with `+noall +comments +answer +stats` (BIND 9.11 to 9.20: the header,
 * the answer section, query time and server). A query that got no answer has `failure` set.
 */
export function parseDig(text: string): DigResult {
  let rcode: string | undefined;
  let flags: string[] = [];
  let queryTimeMs: number | undefined;
  let server: string | undefined;
  const answers: DnsRecord[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = HEADER.exec(line);
    if (header) rcode = header[1];
    const flagLine = FLAGS.exec(line);
    if (flagLine) flags = (flagLine[1] ?? '').trim().split(/\s+/).filter(Boolean);
    const time = QUERY_TIME.exec(line);
    if (time) queryTimeMs = Number(time[1]);
    const serverLine = SERVER.exec(line);
    if (serverLine) server = serverLine[1];
    if (!line.startsWith(';')) {
      const record = RECORD.exec(line);
      if (record)
        answers.push({
          name: record[1] ?? '',
          ttl: Number(record[2]),
          type: record[3] ?? '',
          data: (record[4] ?? '').trim(),
        });
    }
  }
  // dig prints a "communications error" for a failed try and still an answer when a later try succeeded.
  const failed = rcode === undefined ? digFailure(text) : undefined;
  return {
    rcode,
    flags,
    truncated: flags.includes('tc'),
    answers,
    queryTimeMs,
    server,
    failure: failed?.failure ?? (rcode === undefined ? 'error' : undefined),
    failureText: failed?.line ?? (rcode === undefined ? text.trim().split('\n')[0] : undefined),
  };
}

/** Addresses (A/AAAA data) of an answer, in order. */
export const answerAddresses = (result: DigResult): string[] =>
  result.answers.filter((record) => record.type === 'A' || record.type === 'AAAA').map((record) => record.data);

// ---------------------------------------------------------------------------------------------------------------
// getent ahosts

export interface GetentResult {
  /** Distinct addresses in the order printed. */
  readonly addresses: readonly string[];
  /** The canonical name the C library resolved to (glibc prints it on the first line; musl may not). */
  readonly canonicalName: string | undefined;
}

const IP_LIKE = /^[0-9a-fA-F:.]+$/;

/**
 * Parses `getent ahosts NAME` (glibc: `ADDR STREAM canonical` then DGRAM/RAW lines) and `getent hosts NAME`
 * (`ADDR name aliases`, what musl's getent prints). Nothing but the leading address of each line is required.
 */
export function parseGetent(text: string): GetentResult {
  const addresses: string[] = [];
  let canonicalName: string | undefined;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const address = fields[0];
    if (!address || !IP_LIKE.test(address) || !address.match(/[.:]/)) continue;
    if (!addresses.includes(address)) addresses.push(address);
    const name = fields.find((field, index) => index > 0 && !/^(STREAM|DGRAM|RAW)$/.test(field));
    canonicalName ??= name;
  }
  return { addresses, canonicalName };
}

// ---------------------------------------------------------------------------------------------------------------
// Corefile

export interface CorefileDirective {
  readonly name: string;
  readonly args: readonly string[];
  readonly block: readonly CorefileDirective[];
}

export interface CorefileServer {
  /** Zones with their port as written: `.:53`, `cluster.local:53`. */
  readonly keys: readonly string[];
  readonly zones: readonly string[];
  readonly port: number;
  readonly directives: readonly CorefileDirective[];
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '');
    for (const match of line.matchAll(/"([^"]*)"|([{}])|([^\s{}"]+)/g))
      tokens.push(match[1] ?? match[2] ?? match[3] ?? '');
    tokens.push('\n');
  }
  return tokens;
}

/** Parses a Corefile (Caddy syntax: server blocks of directives, each line a directive, `{ }` nesting). */
export function parseCorefile(text: string): CorefileServer[] {
  const tokens = tokenize(text);
  let position = 0;
  const parseBlock = (): CorefileDirective[] => {
    const directives: CorefileDirective[] = [];
    let line: string[] = [];
    while (position < tokens.length) {
      const token = tokens[position++] ?? '';
      if (token === '}') break;
      if (token === '{') {
        const [name = '', ...args] = line;
        directives.push({ name, args, block: parseBlock() });
        line = [];
      } else if (token === '\n') {
        if (line.length > 0) {
          const [name = '', ...args] = line;
          directives.push({ name, args, block: [] });
        }
        line = [];
      } else line.push(token);
    }
    if (line.length > 0) {
      const [name = '', ...args] = line;
      directives.push({ name, args, block: [] });
    }
    return directives;
  };
  const servers: CorefileServer[] = [];
  for (const top of parseBlock()) {
    const keys = [top.name, ...top.args];
    const parsed = keys.map((key) => {
      const match = /^(?:dns:\/\/)?(.*?)(?::(\d+))?$/.exec(key);
      return { zone: match?.[1] || '.', port: match?.[2] ? Number(match[2]) : 53 };
    });
    servers.push({
      keys,
      zones: parsed.map((entry) => (entry.zone.endsWith('.') ? entry.zone : `${entry.zone}.`)),
      port: parsed[0]?.port ?? 53,
      directives: top.block,
    });
  }
  return servers;
}

/** The `kubernetes` plugin's pod mode: `pods disabled` (default) answers no pod names, insecure|verified do. */
export type PodsMode = 'disabled' | 'insecure' | 'verified';

export interface CacheSettings {
  /** Max TTL of cached answers (`cache 30`; default 3600). */
  readonly successTtl: number;
  /** Max TTL of cached denials (NXDOMAIN/NODATA; default 1800 before CoreDNS 1.11, then the `cache TTL`). */
  readonly denialTtl: number;
}

export interface CorefileSummary {
  /** The server block answering the root zone (or the first one). */
  readonly zones: readonly string[];
  /** `forward . TARGETS`: addresses or `/etc/resolv.conf`. */
  readonly forward: readonly string[];
  /** Zones of the kubernetes plugin (cluster domain first); empty when the plugin is absent. */
  readonly kubernetesZones: readonly string[];
  readonly podsMode: PodsMode | undefined;
  readonly loop: boolean;
  readonly errors: boolean;
  readonly cache: CacheSettings | undefined;
  /** `bind` addresses over every server block (nodelocaldns listens on its link-local address). */
  readonly bind: readonly string[];
}

const DEFAULT_CACHE_TTL = 3600;

function cacheSettings(directive: CorefileDirective): CacheSettings {
  const ttl = Number(directive.args[0]);
  const base = Number.isFinite(ttl) && directive.args[0] !== undefined ? ttl : DEFAULT_CACHE_TTL;
  const nested = (name: string) => {
    const entry = directive.block.find((inner) => inner.name === name);
    const value = Number(entry?.args[1]);
    return entry && Number.isFinite(value) && entry.args[1] !== undefined ? value : base;
  };
  return { successTtl: nested('success'), denialTtl: nested('denial') };
}

/** What the DNS checks need from a Corefile, taken from the server block that serves the root zone. */
export function summarizeCorefile(servers: readonly CorefileServer[]): CorefileSummary {
  const main = servers.find((server) => server.zones.includes('.')) ?? servers[0];
  const directives = main?.directives ?? [];
  const find = (name: string) => directives.find((directive) => directive.name === name);
  const kubernetes = servers.flatMap((server) => server.directives).find((d) => d.name === 'kubernetes');
  const podsLine = kubernetes?.block.find((directive) => directive.name === 'pods');
  const podsMode = kubernetes ? ((podsLine?.args[0] as PodsMode | undefined) ?? 'disabled') : undefined;
  const forward = find('forward');
  const cache = find('cache');
  return {
    zones: main?.zones ?? [],
    forward: forward ? forward.args.slice(1) : [],
    kubernetesZones: kubernetes ? kubernetes.args.filter((arg) => !/^\d/.test(arg)) : [],
    podsMode,
    loop: find('loop') !== undefined,
    errors: find('errors') !== undefined,
    cache: cache ? cacheSettings(cache) : undefined,
    bind: [
      ...new Set(
        servers.flatMap((server) =>
          server.directives.filter((d) => d.name === 'bind').flatMap((d) => d.args.filter((arg) => arg !== 'except')),
        ),
      ),
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CoreDNS logs

export type CorednsLogKind = 'loop' | 'servfail' | 'timeout' | 'forbidden' | 'error';

export interface CorednsLogEvent {
  readonly kind: CorednsLogKind;
  readonly line: string;
}

/**
 * Classifies CoreDNS log lines worth reporting: the loop plugin's fatal "Loop … detected", SERVFAIL answers (log
 * plugin), i/o timeouts towards the upstream, RBAC refusals of the kubernetes plugin, other `[ERROR]` lines.
 */
export function classifyCorednsLog(text: string): CorednsLogEvent[] {
  const events: CorednsLogEvent[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    let kind: CorednsLogKind | undefined;
    if (/plugin\/loop/i.test(line) && /detected/i.test(line)) kind = 'loop';
    else if (/forbidden/i.test(line)) kind = 'forbidden';
    else if (/i\/o timeout|timeout|deadline exceeded/i.test(line) && /\[(ERROR|WARNING)\]/.test(line)) kind = 'timeout';
    else if (/\bSERVFAIL\b/.test(line)) kind = 'servfail';
    else if (/\[(ERROR|FATAL)\]/.test(line)) kind = 'error';
    if (kind) events.push({ kind, line });
  }
  return events;
}

// ---------------------------------------------------------------------------------------------------------------
// cluster-proportional-autoscaler (kubespray's dns-autoscaler)

export type AutoscalerParams =
  | {
      readonly mode: 'linear';
      readonly coresPerReplica: number;
      readonly nodesPerReplica: number;
      readonly min: number;
      readonly max: number;
      readonly preventSinglePointFailure: boolean;
      readonly includeUnschedulableNodes: boolean;
    }
  | {
      readonly mode: 'ladder';
      readonly coresToReplicas: readonly (readonly [number, number])[];
      readonly nodesToReplicas: readonly (readonly [number, number])[];
      readonly includeUnschedulableNodes: boolean;
    };

/** Parses the autoscaler ConfigMap's data (`linear` or `ladder`, a JSON string); undefined when neither parses. */
export function parseAutoscalerParams(data: Readonly<Record<string, string>>): AutoscalerParams | undefined {
  const read = (key: string): Record<string, unknown> | undefined => {
    try {
      const value: unknown = data[key] === undefined ? undefined : JSON.parse(data[key]);
      return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const number = (value: unknown): number => (typeof value === 'number' && value > 0 ? value : 0);
  const linear = read('linear');
  if (linear) {
    return {
      mode: 'linear',
      coresPerReplica: number(linear.coresPerReplica),
      nodesPerReplica: number(linear.nodesPerReplica),
      min: Math.max(1, number(linear.min)),
      max: number(linear.max),
      preventSinglePointFailure: linear.preventSinglePointFailure === true,
      includeUnschedulableNodes: linear.includeUnschedulableNodes === true,
    };
  }
  const ladder = read('ladder');
  if (!ladder) return undefined;
  const steps = (value: unknown): [number, number][] =>
    (Array.isArray(value) ? value : [])
      .filter((entry): entry is [number, number] => Array.isArray(entry) && entry.length === 2)
      .map(([from, replicas]) => [Number(from), Number(replicas)] as [number, number])
      .sort((a, b) => a[0] - b[0]);
  return {
    mode: 'ladder',
    coresToReplicas: steps(ladder.coresToReplicas),
    nodesToReplicas: steps(ladder.nodesToReplicas),
    includeUnschedulableNodes: ladder.includeUnschedulableNodes === true,
  };
}

/**
 * The replica count cluster-proportional-autoscaler sets for a cluster of `nodes` nodes and `cores` cores (allocatable,
 * schedulable ones unless includeUnschedulableNodes): linear = max(⌈cores/coresPerReplica⌉, ⌈nodes/nodesPerReplica⌉)
 * clamped to [min, max], at least 2 with preventSinglePointFailure on more than one node; ladder = the largest step at
 * or below each count, the larger of the two.
 */
export function expectedReplicas(params: AutoscalerParams, nodes: number, cores: number): number {
  if (params.mode === 'ladder') {
    const lookup = (steps: readonly (readonly [number, number])[], value: number) => {
      if (steps.length === 0) return 1;
      const reached = steps.filter(([from]) => value >= from).at(-1) ?? steps[0];
      return reached?.[1] ?? 1;
    };
    return Math.max(lookup(params.coresToReplicas, cores), lookup(params.nodesToReplicas, nodes));
  }
  const per = (count: number, perReplica: number) => (perReplica > 0 ? Math.ceil(count / perReplica) : 1);
  let replicas = Math.max(per(cores, params.coresPerReplica), per(nodes, params.nodesPerReplica));
  if (params.max > 0) replicas = Math.min(params.max, replicas);
  replicas = Math.max(params.min, replicas);
  if (params.preventSinglePointFailure && nodes > 1) replicas = Math.max(2, replicas);
  return replicas;
}
