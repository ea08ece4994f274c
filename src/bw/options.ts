/**
 * `kubectl netdiag bw` flags → typed {@link BwOptions}. Pure and unit-tested: every bad value is a usage error (exit
 * 2) with one line of cause and one of fix, raised before anything is created in the cluster.
 */
import { parseDuration } from '../lib/duration.js';
import { usageError } from '../lib/errors.js';
import { parsePositiveInt, parseSize } from '../lib/units.js';
import type { BwOptions } from './model.js';
import { allPairs, pairKey, type Pair } from './schedule.js';

/**
 * UDP's target rate when --bitrate is not given. iperf3's own default (1 Mbit/s) measures nothing; unlimited (`-b 0`)
 * makes the sender outrun any receiver, so loss then measures the receiver's CPU. 1 Gbit/s per stream is what most
 * node links carry: the loss seen at that rate is the network's.
 */
export const DEFAULT_UDP_BITRATE = 1_000_000_000;

export const NETWORK_CHOICES = ['pod', 'host', 'both'] as const;
export const PROTOCOL_CHOICES = ['tcp', 'udp'] as const;

/** The flags as oclif parsed them (strings where the user types units). */
export interface BwFlagValues {
  readonly from?: string;
  readonly to?: string;
  readonly pairs?: string;
  readonly protocol: string;
  readonly parallel: number;
  readonly time: string;
  readonly omit: string;
  /** oclif leaves a boolean flag that was not given undefined. */
  readonly reverse?: boolean;
  readonly bidir?: boolean;
  readonly bitrate?: string;
  readonly length?: string;
  readonly port: number;
  readonly network: string;
  readonly serial?: boolean;
  /** A pair measuring less fails (`bw.pair.below-min`), e.g. `1G`. */
  readonly 'min-rate'?: string;
}

/**
 * The flags' values when none is given: `kubectl netdiag bw`'s flag defaults, and what doctor measures with (with its
 * own --bw-duration). oclif leaves boolean flags that were not given undefined; they are false here.
 */
export const BW_FLAG_DEFAULTS = {
  protocol: 'tcp',
  parallel: 1,
  time: '10s',
  omit: '1s',
  reverse: false,
  bidir: false,
  port: 5201,
  network: 'pod',
  serial: false,
} as const satisfies BwFlagValues;

const SHORT_NAME_FIX = 'use names from `kubectl get nodes` (a unique short name like worker1 is enough)';

/** A typed node name among the selected ones: exact, or the one whose name starts with `name.`. */
function resolveNode(typed: string, nodes: readonly string[], flag: string): string {
  const name = typed.trim();
  const found = nodes.includes(name) ? [name] : nodes.filter((node) => node.startsWith(`${name}.`));
  if (found.length === 1 && found[0]) return found[0];
  throw usageError(
    `${flag} "${typed}" is not one of the selected nodes (${nodes.join(', ')})`,
    `${SHORT_NAME_FIX}; --nodes/--node-selector choose which nodes are selected`,
  );
}

/** Whole seconds ≥ `min` from a duration flag (`10s`, `1m`, a bare number of seconds). */
function wholeSeconds(text: string, flag: string, min: number): number {
  const ms = parseDuration(text, flag);
  if (ms % 1000 !== 0 || ms < min * 1000) {
    throw usageError(
      `invalid --${flag} "${text}": must be whole seconds, at least ${min}s`,
      `use a duration like 10s or 1m${min === 0 ? ' (0 for none)' : ''}`,
    );
  }
  return ms / 1000;
}

/** The requested ordered pairs: all of them, one to all (--from), all to one (--to), or a list (--pairs a:b,c:d). */
export function requestedPairs(flags: Pick<BwFlagValues, 'from' | 'to' | 'pairs'>, nodes: readonly string[]): Pair[] {
  if (flags.pairs !== undefined) {
    const pairs: Pair[] = [];
    for (const item of flags.pairs.split(',')) {
      const [from, to, ...rest] = item.split(':');
      if (from === undefined || to === undefined || rest.length > 0 || !from.trim() || !to.trim()) {
        throw usageError(`invalid --pairs item "${item}"`, 'use --pairs FROM:TO[,FROM:TO...], e.g. worker1:worker2');
      }
      const pair = { from: resolveNode(from, nodes, '--pairs node'), to: resolveNode(to, nodes, '--pairs node') };
      if (pair.from === pair.to) {
        throw usageError(`--pairs item "${item}" pairs a node with itself`, 'pair two different nodes');
      }
      if (!pairs.some((known) => pairKey(known) === pairKey(pair))) pairs.push(pair);
    }
    return pairs;
  }
  const from = flags.from === undefined ? undefined : resolveNode(flags.from, nodes, '--from');
  const to = flags.to === undefined ? undefined : resolveNode(flags.to, nodes, '--to');
  if (from !== undefined && from === to) {
    throw usageError('--from and --to name the same node', 'name two different nodes');
  }
  return allPairs(nodes).filter(
    (pair) => (from === undefined || pair.from === from) && (to === undefined || pair.to === to),
  );
}

/** Flags and the selected nodes (resolved by the core's node selection) → options. */
export function bwOptions(flags: BwFlagValues, nodes: readonly string[]): BwOptions {
  if (nodes.length < 2) {
    throw usageError(
      `bw measures between nodes and ${nodes.length === 1 ? `only one node (${nodes[0]}) is` : 'no node is'} selected`,
      'select two or more nodes with --nodes or --node-selector',
    );
  }
  const protocol = PROTOCOL_CHOICES.find((choice) => choice === flags.protocol);
  const network = NETWORK_CHOICES.find((choice) => choice === flags.network);
  if (!protocol) throw usageError(`invalid --protocol "${flags.protocol}"`, 'use --protocol tcp or udp');
  if (!network) throw usageError(`invalid --network "${flags.network}"`, 'use --network pod, host or both');
  if (flags.reverse && flags.bidir) {
    throw usageError('--reverse and --bidir cannot be combined', '--bidir already measures both directions');
  }
  return {
    nodes,
    pairs: requestedPairs(flags, nodes),
    networks: network === 'both' ? ['pod', 'host'] : [network],
    serial: flags.serial === true,
    minBitsPerSecond: flags['min-rate'] === undefined ? undefined : parseBitrate(flags['min-rate'], '--min-rate'),
    test: {
      protocol,
      parallel: parsePositiveInt(flags.parallel, '--parallel', 128),
      timeSeconds: wholeSeconds(flags.time, 'time', 1),
      omitSeconds: wholeSeconds(flags.omit, 'omit', 0),
      reverse: flags.reverse === true,
      bidir: flags.bidir === true,
      bitrate:
        flags.bitrate !== undefined
          ? parseBitrate(flags.bitrate)
          : protocol === 'udp'
            ? DEFAULT_UDP_BITRATE
            : undefined,
      length: flags.length === undefined ? undefined : parseSize(flags.length, '--length'),
      port: parsePositiveInt(flags.port, '--port', 65535),
    },
  };
}

/** `500M`, `2G`, `100k` or plain bits/s (powers of 1000, as iperf3 reads -b), for `flag`. */
export function parseBitrate(text: string, flag = '--bitrate'): number {
  try {
    return parseSize(text, flag);
  } catch {
    throw usageError(`invalid ${flag} "${text}"`, 'use bits per second with an optional unit, e.g. 500M or 2G');
  }
}
