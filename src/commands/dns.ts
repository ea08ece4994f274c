import * as Flags from '@oclif/core/flags';
import { NetdiagCommand } from '../cli/command.js';
import { diagnosticFlags } from '../cli/flags.js';
import { runDns } from '../dns/engine.js';
import {
  DEFAULT_EXTERNAL_NAME,
  DEFAULT_PROPAGATION_TIMEOUT_MS,
  DEFAULT_QUERIES,
  MAX_QUERIES,
  type DnsOptions,
} from '../dns/options.js';
import { dnsNodeTable } from '../dns/render.js';
import { parseDuration } from '../lib/duration.js';
import { usageError } from '../lib/errors.js';

const DNS_NAME =
  /^(?=.{1,253}\.?$)([a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)*\.?$/;

export const dnsFlags = {
  name: Flags.string({
    description: 'Also look up this cluster name through the pod resolver (repeatable), e.g. web.shop.',
    multiple: true,
  }),
  external: Flags.string({
    description: `An external name that must resolve (repeatable; default ${DEFAULT_EXTERNAL_NAME}, skipped rather than failed when it does not resolve).`,
    multiple: true,
    exclusive: ['no-external'],
  }),
  'no-external': Flags.boolean({ description: 'Do not look up external names (air-gapped clusters).' }),
  'large-name': Flags.string({
    description: 'A name whose answer is too large for UDP: must come back truncated over UDP and whole over TCP.',
  }),
  queries: Flags.integer({
    description: `Queries per resolver and protocol for latency, and C library lookups in a row (1-${MAX_QUERIES}).`,
    default: DEFAULT_QUERIES,
  }),
  capture: Flags.boolean({
    description:
      'Capture port 53 in each probe pod during one lookup and list what was really sent (search expansion).',
  }),
  propagation: Flags.boolean({
    description: 'Create a Service and time, on every node, how long until its name resolves.',
  }),
  'propagation-timeout': Flags.string({
    description: 'With --propagation: how long to wait for the name on a node.',
    default: `${DEFAULT_PROPAGATION_TIMEOUT_MS / 1000}s`,
  }),
};

type DnsFlagValues = {
  readonly name?: readonly string[];
  readonly external?: readonly string[];
  readonly 'no-external': boolean;
  readonly 'large-name'?: string;
  readonly queries: number;
  readonly capture: boolean;
  readonly propagation: boolean;
  readonly 'propagation-timeout': string;
};

/** Flags → typed options. Pure; bad input is a usage error (exit 2). */
export function toOptions(flags: DnsFlagValues): DnsOptions {
  const names = flags.name ?? [];
  const external = flags.external ?? [];
  for (const [flag, values] of [
    ['name', names],
    ['external', external],
    ['large-name', flags['large-name'] === undefined ? [] : [flags['large-name']]],
  ] as const)
    for (const value of values)
      if (!DNS_NAME.test(value))
        throw usageError(`invalid --${flag} "${value}": not a DNS name`, `use a name like web.shop or www.example.com`);
  if (!Number.isInteger(flags.queries) || flags.queries < 1 || flags.queries > MAX_QUERIES)
    throw usageError(`invalid --queries ${flags.queries}`, `use a whole number from 1 to ${MAX_QUERIES}`);
  const propagationTimeoutMs = parseDuration(flags['propagation-timeout'], 'propagation-timeout');
  if (propagationTimeoutMs <= 0) throw usageError('invalid --propagation-timeout 0', 'use a duration like 30s or 2m');
  const useDefault = !flags['no-external'] && external.length === 0;
  return {
    names,
    externalNames: flags['no-external'] ? [] : useDefault ? [DEFAULT_EXTERNAL_NAME] : external,
    externalIsDefault: useDefault,
    largeName: flags['large-name'],
    queries: flags.queries,
    capture: flags.capture,
    propagation: flags.propagation,
    propagationTimeoutMs,
  };
}

export default class Dns extends NetdiagCommand {
  static override summary = 'Check cluster DNS hop by hop on every node, and name the broken hop.';
  static override description =
    'On each chosen node a probe pod with dnsPolicy ClusterFirst (like any workload) reads its resolv.conf, looks names ' +
    'up through the C library, and asks every resolver in the path directly — the node-local cache, the kube-dns ' +
    'ClusterIP, each CoreDNS pod and the upstream — over UDP and TCP, timing each. Cluster side: CoreDNS pods and ' +
    'endpoints, the Corefile, its RBAC and logs, the node cache DaemonSet, the DNS autoscaler. When something fails, ' +
    'a dns.cause.* finding says which hop. Exit 1 when a check fails.';
  static override examples = [
    '<%= config.bin %> dns',
    '<%= config.bin %> dns --nodes worker2 --external www.example.com -o wide',
    '<%= config.bin %> dns --no-external --capture',
    '<%= config.bin %> dns --propagation -o json',
  ];
  static override flags = { ...diagnosticFlags, ...dnsFlags };

  async run(): Promise<void> {
    const { flags } = await this.parseFlags(Dns);
    const options = toOptions(flags);
    await this.diagnose(flags, (ctx) => runDns(ctx, options), { text: dnsNodeTable });
  }
}
