import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { NetdiagCommand } from '../cli/command.js';
import { diagnosticFlags, type DiagnosticFlagValues } from '../cli/flags.js';
import { usageError } from '../lib/errors.js';
import { preflight } from '../kube/preflight.js';
import {
  DEFAULT_NODE_OPTIONS,
  inspectNodes,
  nodeRequirements,
  podNode,
  type NodeOptions,
  type PodRef,
} from '../node/engine.js';
import { openOwnedFile, type OwnedFile } from '../lib/owned-output.js';
import { bundleFiles, writeBundle } from '../node/bundle.js';
import { nodeView } from '../node/view.js';

export interface NodeCommandFlags {
  readonly pod?: string;
  readonly bundle?: string;
}

/** `--pod NS/NAME` (or NAME in the current namespace) → a pod reference. Pure; bad input is a usage error. */
export function parsePodRef(value: string, namespace: string): PodRef {
  const parts = value.split('/');
  const [ns, name] = parts.length === 2 ? parts : [namespace, parts[0]];
  if (parts.length > 2 || !ns || !name)
    throw usageError(`invalid --pod "${value}"`, 'use --pod NAMESPACE/NAME (or NAME with -n NAMESPACE)');
  return { namespace: ns, name };
}

/** Flags → the engine's options. Pure. */
export function toOptions(flags: NodeCommandFlags, namespace: string): NodeOptions {
  return {
    ...DEFAULT_NODE_OPTIONS,
    pod: flags.pod !== undefined ? parsePodRef(flags.pod, namespace) : undefined,
    full: flags.bundle !== undefined,
  };
}

/**
 * NODE arguments are the same choice as `--nodes` (a usage error when both are given). Pure.
 */
export function withNodeArgs<F extends Pick<DiagnosticFlagValues, 'nodes' | 'node-selector'>>(
  flags: F,
  args: readonly string[],
): F {
  if (args.length === 0) return flags;
  if (flags.nodes !== undefined || flags['node-selector'] !== undefined)
    throw usageError('nodes given both as arguments and with --nodes/--node-selector', 'use one of them');
  return { ...flags, nodes: args.join(',') };
}

export default class Node extends NetdiagCommand {
  static override summary =
    "Read every node's network plumbing: CNI config and binaries, runtime, kube-proxy rules, iptables backend, sysctls, conntrack, interfaces, MTU — and the node that differs from the others.";
  static override description =
    'Runs a read-only, privileged helper pod (hostNetwork, hostPID, the host filesystem read-only) on each selected node ' +
    '(default: every Ready, schedulable node) and reads the node the way its own runtime, kubelet and kube-proxy see it. ' +
    'Each check is a finding with the raw evidence; the facts are shown side by side with the odd one out marked. ' +
    'Exit 1 when a check fails.';
  static override examples = [
    '<%= config.bin %> node',
    '<%= config.bin %> node worker2.kube.local -o wide',
    '<%= config.bin %> node --pod kube-system/coredns-6d4b75cb6d-abcde',
    '<%= config.bin %> node --bundle support.tar.gz',
    '<%= config.bin %> node --node-selector kubernetes.io/os=linux -o json',
  ];
  static override strict = false;
  static override args = {
    node: Args.string({
      description: 'Nodes to read, like --nodes (several allowed; default: every Ready, schedulable node).',
      required: false,
    }),
  };
  static override flags = {
    ...diagnosticFlags,
    pod: Flags.string({
      description:
        "Also show this pod's containers as the runtime has them (crictl inspect): NAMESPACE/NAME. Default node: the pod's.",
    }),
    bundle: Flags.string({
      description: 'Also write everything read on every node, raw (credentials redacted), to this .tar.gz file.',
    }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseFlags(Node);
    const client = await this.client();
    const options = toOptions(flags, client.namespace);
    let selection = withNodeArgs(flags, argv as string[]);
    if (options.pod && selection.nodes === undefined && selection['node-selector'] === undefined) {
      selection = { ...selection, nodes: await podNode({ client, signal: this.abort.signal }, options.pod) };
    }
    // Opened before any work: an unwritable path fails at once, and an existing file is replaced only on success.
    const bundle: OwnedFile | undefined = flags.bundle
      ? await openOwnedFile(flags.bundle, 'pick a writable path for --bundle')
      : undefined;
    let written = false;
    try {
      await this.diagnose(
        selection,
        async (ctx) => {
          await ctx.progress.step('checking permissions', () =>
            preflight(ctx.client, nodeRequirements(ctx.namespace), ctx.namespace, { signal: ctx.signal }),
          );
          const run = await inspectNodes(ctx, options);
          if (bundle) {
            await this.progress.step(`writing ${bundle.path}`, () => writeBundle(bundle, bundleFiles(run), new Date()));
            written = true;
          }
          return run.result;
        },
        nodeView,
      );
    } catch (err) {
      if (!written) await bundle?.abandon();
      throw err;
    }
  }
}
