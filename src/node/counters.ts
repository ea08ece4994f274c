/**
 * A node's packet counters: NIC statistics and MTUs from /sys/class/net, the packet counters of its firewall
 * rules (iptables legacy, iptables-nft, native nftables), and its interfaces' queueing disciplines (`tc`). One fixed script prints them all in a node-inspector pod
 * (hostNetwork, privileged); a pure parser reads its output and a pure diff says what moved between two snapshots —
 * the evidence for "NIC errors", "a firewall drops it" and "a qdisc limits the rate" (bw's causes, node's checks).
 */

import { formatBits } from '../lib/units.js';

/**
 * Printed in sections (`### <name>`). `grep -H .` prints `path:value` for every file, one line each.
 * Legacy tables are listed only when their kernel module is already loaded: `iptables-legacy-save` would otherwise
 * load it, and a node that suddenly has (empty) legacy tables can make kube-proxy and CNIs pick the wrong backend.
 * The image's binaries are used (not the node's): a node may have none (Retina #895).
 */
export const COUNTERS_SCRIPT = [
  'echo "### nic"',
  'grep -H . /sys/class/net/*/mtu /sys/class/net/*/statistics/* 2>/dev/null',
  'if [ -e /proc/net/ip_tables_names ]; then echo "### iptables-legacy"; iptables-legacy-save -c 2>/dev/null; fi',
  'if [ -e /proc/net/ip6_tables_names ]; then echo "### ip6tables-legacy"; ip6tables-legacy-save -c 2>/dev/null; fi',
  'echo "### iptables-nft"',
  'iptables-nft-save -c 2>/dev/null',
  'echo "### ip6tables-nft"',
  'ip6tables-nft-save -c 2>/dev/null',
  'echo "### nftables"',
  'nft -j list ruleset 2>/dev/null',
  'echo "### qdisc"',
  'tc -s -j qdisc show 2>/dev/null',
  'true',
].join('\n');

/** argv that runs {@link COUNTERS_SCRIPT} in a helper pod's shell. */
export const countersArgv = (): string[] => ['sh', '-c', COUNTERS_SCRIPT];

/**
 * The counters that mean a NIC or its driver lost or mangled packets (kernel Documentation/ABI/testing/sysfs-class-net-
 * statistics). rx_dropped also counts packets for protocols nobody listens to, so it is evidence, not proof.
 */
export const NIC_ERROR_COUNTERS = [
  'rx_errors',
  'rx_crc_errors',
  'rx_frame_errors',
  'rx_length_errors',
  'rx_over_errors',
  'rx_fifo_errors',
  'rx_missed_errors',
  'rx_dropped',
  'tx_errors',
  'tx_aborted_errors',
  'tx_carrier_errors',
  'tx_fifo_errors',
  'tx_heartbeat_errors',
  'tx_window_errors',
  'tx_dropped',
  'collisions',
] as const;

export interface InterfaceCounters {
  readonly name: string;
  readonly mtu: number | undefined;
  /** Every file of /sys/class/net/<name>/statistics by its name (rx_bytes, rx_crc_errors, …). */
  readonly statistics: Readonly<Record<string, number>>;
}

/** iptables-legacy, iptables-nft (both read with *-save -c) or native nftables (nft -j). */
export type FirewallBackend = 'iptables-legacy' | 'iptables-nft' | 'nftables';

export interface FirewallRule {
  readonly backend: FirewallBackend;
  /** `ipv4`/`ipv6` for iptables; nftables' own family (ip, ip6, inet, bridge, netdev, arp). */
  readonly family: string;
  readonly table: string;
  readonly chain: string;
  /** The rule as iptables-save prints it without its counters, `policy DROP` for a chain policy; nft: a summary. */
  readonly rule: string;
  /** Upper-case verdict: DROP, REJECT, ACCEPT, RETURN, a chain jumped to; undefined when the rule has none. */
  readonly verdict: string | undefined;
  readonly packets: number;
  readonly bytes: number;
}

/** One queueing discipline of an interface, as `tc -s -j qdisc show` prints it. */
export interface Qdisc {
  readonly device: string;
  readonly kind: string;
  readonly handle: string;
  /** The interface's root (egress) qdisc, not a child of a classful one or the ingress hook. */
  readonly root: boolean;
  /**
   * The rate it holds the interface's egress to, bits/s: tbf's. Undefined for others: htb keeps its rates in classes,
   * and cake is not read (not in the kernel this was checked on).
   */
  readonly rateBitsPerSecond: number | undefined;
  readonly bytes: number;
  readonly packets: number;
  readonly drops: number;
  /** Packets that found the rate exhausted and had to wait (tbf) — the shaper at work. */
  readonly overlimits: number;
}

export interface CounterSnapshot {
  readonly interfaces: readonly InterfaceCounters[];
  readonly rules: readonly FirewallRule[];
  readonly qdiscs: readonly Qdisc[];
  /** Backends that printed at least one table (empty: no firewall readable, which is itself worth saying). */
  readonly backends: readonly FirewallBackend[];
}

/** Splits the script's output into its sections by their `### name` header. */
function sections(output: string): Map<string, string> {
  const found = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    const header = /^### ([\w-]+)$/.exec(line);
    if (header?.[1]) {
      current = [];
      found.set(header[1], current);
    } else {
      current?.push(line);
    }
  }
  return new Map([...found].map(([name, lines]) => [name, lines.join('\n')]));
}

export function parseCounters(output: string): CounterSnapshot {
  const parts = sections(output);
  const rules: FirewallRule[] = [];
  const backends = new Set<FirewallBackend>();
  const xtablesNftTables = new Set<string>();
  const iptablesSections = [
    ['iptables-legacy', 'iptables-legacy', 'ipv4'],
    ['ip6tables-legacy', 'iptables-legacy', 'ipv6'],
    ['iptables-nft', 'iptables-nft', 'ipv4'],
    ['ip6tables-nft', 'iptables-nft', 'ipv6'],
  ] as const;
  for (const [section, backend, family] of iptablesSections) {
    const saved = parseIptablesSave(parts.get(section) ?? '', backend, family);
    if (saved.tables.length > 0) backends.add(backend);
    rules.push(...saved.rules);
    if (backend === 'iptables-nft') {
      for (const table of saved.tables) xtablesNftTables.add(`${family === 'ipv4' ? 'ip' : 'ip6'} ${table}`);
    }
  }
  // iptables-nft's tables are nftables tables too: read them once, through iptables-nft-save.
  const nft = parseNftJson(parts.get('nftables') ?? '').filter(
    (rule) => !xtablesNftTables.has(`${rule.family} ${rule.table}`),
  );
  if (nft.length > 0) backends.add('nftables');
  rules.push(...nft);
  return {
    interfaces: parseNicStatistics(parts.get('nic') ?? ''),
    rules,
    backends: [...backends],
    qdiscs: parseQdiscJson(parts.get('qdisc') ?? ''),
  };
}

interface TcQdiscJson {
  readonly kind?: string;
  readonly handle?: string;
  readonly dev?: string;
  readonly root?: boolean;
  readonly options?: { readonly rate?: unknown };
  readonly bytes?: number;
  readonly packets?: number;
  readonly drops?: number;
  readonly overlimits?: number;
}

/**
 * `tc -s -j qdisc show` (iproute2 prints JSON since 4.13). tbf's `rate` is bytes per second, tc's own unit
 * (`rate 100mbit` prints 12500000). Anything unreadable is no qdiscs. Pure.
 */
export function parseQdiscJson(text: string): Qdisc[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return (parsed as TcQdiscJson[]).flatMap((entry) => {
    if (typeof entry.dev !== 'string' || typeof entry.kind !== 'string') return [];
    const rate = entry.kind === 'tbf' ? entry.options?.rate : undefined;
    return [
      {
        device: entry.dev,
        kind: entry.kind,
        handle: entry.handle ?? '',
        root: entry.root === true,
        rateBitsPerSecond: typeof rate === 'number' && rate > 0 ? rate * 8 : undefined,
        bytes: entry.bytes ?? 0,
        packets: entry.packets ?? 0,
        drops: entry.drops ?? 0,
        overlimits: entry.overlimits ?? 0,
      },
    ];
  });
}

/** `grep -H . /sys/class/net/*\/mtu /sys/class/net/*\/statistics/*` output; names cannot hold `/` or `:`. */
export function parseNicStatistics(text: string): InterfaceCounters[] {
  const byName = new Map<string, { mtu: number | undefined; statistics: Record<string, number> }>();
  for (const line of text.split('\n')) {
    const match = /^\/sys\/class\/net\/([^/:]+)\/(mtu|statistics\/(\w+)):(\d+)$/.exec(line.trim());
    if (!match?.[1] || match[4] === undefined) continue;
    const entry = byName.get(match[1]) ?? { mtu: undefined, statistics: {} };
    byName.set(match[1], entry);
    if (match[3]) entry.statistics[match[3]] = Number(match[4]);
    else entry.mtu = Number(match[4]);
  }
  return [...byName].map(([name, entry]) => ({ name, ...entry }));
}

/** `iptables-save -c` (either backend): `*table`, `:CHAIN POLICY [p:b]`, `[p:b] -A CHAIN …`, `COMMIT`. */
export function parseIptablesSave(
  text: string,
  backend: 'iptables-legacy' | 'iptables-nft',
  family: 'ipv4' | 'ipv6',
): { tables: string[]; rules: FirewallRule[] } {
  const tables: string[] = [];
  const rules: FirewallRule[] = [];
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      table = line.slice(1);
      tables.push(table);
      continue;
    }
    const policy = /^:(\S+) (\S+) \[(\d+):(\d+)\]$/.exec(line);
    if (policy?.[1] && policy[2] && policy[2] !== '-') {
      rules.push({
        backend,
        family,
        table,
        chain: policy[1],
        rule: `policy ${policy[2]}`,
        verdict: policy[2],
        packets: Number(policy[3]),
        bytes: Number(policy[4]),
      });
      continue;
    }
    const rule = /^\[(\d+):(\d+)\] (-A (\S+)(?: .*)?)$/.exec(line);
    if (rule?.[3] && rule[4]) {
      const verdict = /(?:^| )-[jg] (\S+)(?!.* -[jg] )/.exec(rule[3]);
      rules.push({
        backend,
        family,
        table,
        chain: rule[4],
        rule: rule[3],
        verdict: verdict?.[1],
        packets: Number(rule[1]),
        bytes: Number(rule[2]),
      });
    }
  }
  return { tables, rules };
}

interface NftExpression {
  readonly [key: string]: unknown;
}

interface NftRule {
  readonly family?: string;
  readonly table?: string;
  readonly chain?: string;
  readonly handle?: number;
  readonly comment?: string;
  readonly expr?: readonly NftExpression[];
}

const NFT_VERDICTS: Readonly<Record<string, string>> = { drop: 'DROP', reject: 'REJECT', accept: 'ACCEPT' };

/** `nft -j list ruleset`: rules that have a `counter` expression (nftables counts only where asked to). */
export function parseNftJson(text: string): FirewallRule[] {
  if (text.trim() === '') return [];
  let document: { nftables?: readonly Record<string, unknown>[] };
  try {
    document = JSON.parse(text) as typeof document;
  } catch {
    return [];
  }
  const rules: FirewallRule[] = [];
  for (const item of document.nftables ?? []) {
    const rule = item['rule'] as NftRule | undefined;
    if (!rule?.expr) continue;
    const counter = rule.expr.find((expression) => 'counter' in expression)?.['counter'] as
      { packets?: number; bytes?: number } | undefined;
    if (counter?.packets === undefined) continue;
    const verdictKey = rule.expr
      .map((expression) => Object.keys(expression)[0] ?? '')
      .find((key) => key in NFT_VERDICTS);
    const jump = rule.expr.find((expression) => 'jump' in expression || 'goto' in expression);
    const target = jump ? ((jump['jump'] ?? jump['goto']) as { target?: string } | undefined)?.target : undefined;
    rules.push({
      backend: 'nftables',
      family: rule.family ?? '',
      table: rule.table ?? '',
      chain: rule.chain ?? '',
      // Without the counter, so that the text identifies the rule in both snapshots.
      rule: `handle ${rule.handle ?? '?'}${rule.comment ? ` comment "${rule.comment}"` : ''}: ${JSON.stringify(
        rule.expr.filter((expression) => !('counter' in expression)),
      )}`,
      verdict: verdictKey ? NFT_VERDICTS[verdictKey] : target,
      packets: counter.packets,
      bytes: counter.bytes ?? 0,
    });
  }
  return rules;
}

export interface CounterChange {
  readonly interface: string;
  readonly counter: string;
  readonly before: number;
  readonly after: number;
  readonly delta: number;
}

export interface RuleChange {
  readonly rule: FirewallRule;
  /** Packets and bytes the rule counted between the two snapshots. */
  readonly packets: number;
  readonly bytes: number;
}

export interface ShaperChange {
  /** The qdisc as the later snapshot saw it. */
  readonly qdisc: Qdisc & { readonly rateBitsPerSecond: number };
  /** What it passed, made wait and dropped between the two snapshots. */
  readonly bytes: number;
  readonly overlimits: number;
  readonly drops: number;
}

export interface CountersDiff {
  /** NIC error/drop counters ({@link NIC_ERROR_COUNTERS}) that grew, largest first. */
  readonly nicErrors: readonly CounterChange[];
  /** DROP/REJECT rules and policies whose packet count grew, largest first. */
  readonly droppingRules: readonly RuleChange[];
  /** Rate-limiting qdiscs that passed traffic, most bytes first. */
  readonly shapers: readonly ShaperChange[];
}

/**
 * What moved between two snapshots of one node. Interfaces and rules present in only one snapshot are skipped (a pod's
 * veth came or went; kube-proxy rewrote a chain); a counter that went down was reset, which is not a movement.
 */
export function diffCounters(before: CounterSnapshot, after: CounterSnapshot): CountersDiff {
  const earlier = new Map(before.interfaces.map((entry) => [entry.name, entry]));
  const nicErrors: CounterChange[] = [];
  for (const entry of after.interfaces) {
    const old = earlier.get(entry.name);
    if (!old) continue;
    for (const counter of NIC_ERROR_COUNTERS) {
      const then = old.statistics[counter];
      const now = entry.statistics[counter];
      if (then === undefined || now === undefined || now <= then) continue;
      nicErrors.push({ interface: entry.name, counter, before: then, after: now, delta: now - then });
    }
  }
  const earlierRules = new Map(ruleKeys(before.rules).map(([key, rule]) => [key, rule]));
  const droppingRules: RuleChange[] = [];
  for (const [key, rule] of ruleKeys(after.rules)) {
    if (rule.verdict !== 'DROP' && rule.verdict !== 'REJECT') continue;
    const old = earlierRules.get(key);
    if (!old || rule.packets <= old.packets) continue;
    droppingRules.push({ rule, packets: rule.packets - old.packets, bytes: Math.max(0, rule.bytes - old.bytes) });
  }
  return {
    nicErrors: nicErrors.sort((a, b) => b.delta - a.delta),
    droppingRules: droppingRules.sort((a, b) => b.packets - a.packets),
    shapers: shaperChanges(before.qdiscs, after.qdiscs),
  };
}

/** A qdisc replaced between the snapshots (a new handle) starts its counters again: skipped, like a new veth. */
function shaperChanges(before: readonly Qdisc[], after: readonly Qdisc[]): ShaperChange[] {
  const key = (qdisc: Qdisc): string => `${qdisc.device}\u0000${qdisc.kind}\u0000${qdisc.handle}`;
  const earlier = new Map(before.map((qdisc) => [key(qdisc), qdisc]));
  return after
    .flatMap((qdisc) => {
      const old = earlier.get(key(qdisc));
      const rate = qdisc.rateBitsPerSecond;
      if (!old || rate === undefined || qdisc.bytes <= old.bytes) return [];
      return [
        {
          qdisc: { ...qdisc, rateBitsPerSecond: rate },
          bytes: qdisc.bytes - old.bytes,
          overlimits: Math.max(0, qdisc.overlimits - old.overlimits),
          drops: Math.max(0, qdisc.drops - old.drops),
        },
      ];
    })
    .sort((a, b) => b.bytes - a.bytes);
}

/** A rule's identity across snapshots: where it is, its text, and which of identical rules in that chain it is. */
function ruleKeys(rules: readonly FirewallRule[]): [string, FirewallRule][] {
  const seen = new Map<string, number>();
  return rules.map((rule) => {
    const base = [rule.backend, rule.family, rule.table, rule.chain, rule.rule].join('\u0000');
    const occurrence = seen.get(base) ?? 0;
    seen.set(base, occurrence + 1);
    return [`${base}\u0000${occurrence}`, rule];
  });
}

/** One line per change, for a finding's evidence. */
export function describeCountersDiff(diff: CountersDiff): string {
  return [
    ...diff.nicErrors.map((change) => `${change.interface} ${change.counter} +${change.delta} (now ${change.after})`),
    ...diff.droppingRules.map(
      ({ rule, packets }) => `${rule.backend} ${rule.family} ${rule.table}: ${rule.rule} counted +${packets} packets`,
    ),
    ...diff.shapers.map(
      ({ qdisc, bytes, overlimits, drops }) =>
        `${qdisc.device} qdisc ${qdisc.kind} rate ${formatBits(qdisc.rateBitsPerSecond)}: sent +${bytes} bytes, overlimits +${overlimits}, dropped +${drops}`,
    ),
  ].join('\n');
}

/** argv that prints the network namespace's protocol counters (the `Udp:` lines among them). */
export const SNMP_ARGV: readonly string[] = ['cat', '/proc/net/snmp'];

/**
 * `Udp: … RcvbufErrors` of /proc/net/snmp: datagrams the kernel dropped because the receiving socket's buffer was
 * full (the application did not read fast enough). The counter is per network namespace. Pure.
 */
export function udpReceiveBufferErrors(snmp: string): number | undefined {
  const lines = snmp.split('\n').filter((line) => line.startsWith('Udp:'));
  const [header, values] = [lines[0]?.split(/\s+/), lines[1]?.split(/\s+/)];
  const column = header?.indexOf('RcvbufErrors') ?? -1;
  const value = column > 0 ? Number(values?.[column]) : NaN;
  return Number.isInteger(value) ? value : undefined;
}
