import * as Flags from '@oclif/core/flags';
import { NetdiagCommand } from '../cli/command.js';
import { diagnosticFlags } from '../cli/flags.js';
import { checkRequirements, runCheck } from '../check/engine.js';
import { preflight } from '../kube/preflight.js';
import { DEFAULT_PARALLEL, outsideTargets, parseSample, type CheckOptions } from '../check/options.js';
import { checkView } from '../check/view.js';
import { usageError } from '../lib/errors.js';

/** The flags `check` adds to the diagnostic ones. */
export const checkFlags = {
  target: Flags.string({
    description: 'Also connect to HOST:PORT over TCP (udp:HOST:PORT for UDP) from every node. Repeatable.',
    multiple: true,
  }),
  url: Flags.string({ description: 'Also GET this http(s) URL from every node. Repeatable.', multiple: true }),
  ping: Flags.string({ description: 'Also ping this host from every node. Repeatable.', multiple: true }),
  external: Flags.boolean({
    description: 'Also check a documented set of public targets (docs/check.md); none are checked without it.',
  }),
  sample: Flags.integer({
    description: 'Check each node against K peers on a stable hash ring instead of all (default: all up to 50 nodes).',
  }),
  parallel: Flags.integer({
    description: 'Probes each node runs at once.',
    default: DEFAULT_PARALLEL,
  }),
  'skip-mtu': Flags.boolean({ description: 'Skip the don’t-fragment pings at the pod MTU (and the MTU search).' }),
};

export interface CheckFlagValues {
  readonly target?: readonly string[];
  readonly url?: readonly string[];
  readonly ping?: readonly string[];
  readonly external: boolean;
  readonly sample?: number;
  readonly parallel: number;
  readonly 'skip-mtu': boolean;
}

/** Flags → typed options; pure. Bad input is a usage error (exit 2) before anything is created. */
export function toOptions(flags: CheckFlagValues): CheckOptions {
  if (!Number.isInteger(flags.parallel) || flags.parallel < 1 || flags.parallel > 256) {
    throw usageError(`--parallel ${flags.parallel} is out of range`, 'use a number of probes from 1 to 256');
  }
  const sample = parseSample(flags.sample);
  return {
    outside: outsideTargets(flags),
    ...(sample === undefined ? {} : { sample }),
    parallel: flags.parallel,
    skipMtu: flags['skip-mtu'],
  };
}

export default class Check extends NetdiagCommand {
  static override summary =
    'Check connectivity across the cluster: L3, L4 and the Service path, L7, MTU, and outside targets.';
  static override description =
    'Runs a probe pod and an echo server on every selected node and a test Service over the echo servers, then probes ' +
    'in parallel: ping pod→pod (same node and across nodes) and pod→node; TCP by pod IP, ClusterIP, NodePort on each ' +
    'node and Service name, UDP by ClusterIP; HTTP by ClusterIP and name; the kubernetes Service; a don’t-fragment ' +
    'ping at the pod MTU between nodes, with the largest size that passes when it fails. Outside targets only when ' +
    'asked (--target, --url, --ping, --external). Exit 1 when a probe fails. Everything created is deleted.';
  static override examples = [
    '<%= config.bin %> check',
    '<%= config.bin %> check --nodes worker1,worker3 -o wide',
    '<%= config.bin %> check --target ya.ru:80 --target ya.ru:8080 --url http://google.com:80 --ping google.com',
    '<%= config.bin %> check --sample 5 -o json',
  ];
  static override flags = { ...diagnosticFlags, ...checkFlags };

  async run(): Promise<void> {
    const { flags } = await this.parseFlags(Check);
    const options = toOptions(flags);
    await this.diagnose(
      flags,
      async (ctx) => {
        await ctx.progress.step('checking permissions', () =>
          preflight(ctx.client, checkRequirements(ctx.namespace), ctx.namespace, { signal: ctx.signal }),
        );
        return runCheck(ctx, options);
      },
      checkView,
    );
  }
}
