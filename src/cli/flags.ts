/**
 * The flag groups commands spread into their `static flags`: global (cluster access like kubectl, verbosity),
 * output (`-o`), node selection and helper pods. Turning flag values into typed options is pure and unit-tested.
 */
import * as Flags from '@oclif/core/flags';
import type * as Interfaces from '@oclif/core/interfaces';
import { REPORT_FORMATS } from '../findings/render/formats.js';
import type { KubeAccessOptions } from '../kube/kubeconfig.js';
import type { NodeSelection } from '../kube/nodes.js';
import { parseDuration } from '../lib/duration.js';
import { usageError } from '../lib/errors.js';

const GLOBAL = 'GLOBAL';
const NODES = 'NODE SELECTION';
const HELPERS = 'HELPER PODS';

/** Flags every command has; names, short forms and meaning follow kubectl. */
export const globalFlags = {
  kubeconfig: Flags.string({
    description: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).',
    helpGroup: GLOBAL,
  }),
  context: Flags.string({ description: 'The kubeconfig context to use.', helpGroup: GLOBAL }),
  cluster: Flags.string({ description: 'The kubeconfig cluster to use (overrides the context’s).', helpGroup: GLOBAL }),
  user: Flags.string({ description: 'The kubeconfig user to use (overrides the context’s).', helpGroup: GLOBAL }),
  namespace: Flags.string({
    char: 'n',
    description: 'Namespace (default: the context’s, then "default").',
    helpGroup: GLOBAL,
  }),
  'request-timeout': Flags.string({
    description: 'Timeout of each API request: 30s, 1m, a bare number of seconds; 0 = none.',
    default: '30s',
    helpGroup: GLOBAL,
  }),
  verbose: Flags.boolean({
    char: 'v',
    description:
      'Debug logs on stderr (and the number of API requests at the end); stack traces for unexpected errors.',
    helpGroup: GLOBAL,
  }),
  quiet: Flags.boolean({
    char: 'q',
    description: 'No progress output on stderr (warnings and errors still print).',
    helpGroup: GLOBAL,
  }),
};

export type GlobalFlagValues = Interfaces.InferredFlags<typeof globalFlags>;

/** `-o` with these formats, default table. */
export const outputFlag = (formats: readonly string[]) => ({
  output: Flags.string({ char: 'o', description: 'Output format.', options: [...formats], default: 'table' }),
});

/** `-o` of the diagnosis commands: every format the findings renderers know. */
export const outputFlags = outputFlag(REPORT_FORMATS);

/** Which nodes a fleet command works on (src/kube/nodes.ts resolves them). */
export const nodeSelectionFlags = {
  nodes: Flags.string({
    description: 'Only these nodes, comma-separated (a unique short name like worker1 is enough).',
    exclusive: ['node-selector'],
    helpGroup: NODES,
  }),
  'node-selector': Flags.string({
    description:
      'Only nodes with these labels, e.g. kubernetes.io/arch=amd64 (default: every Ready, schedulable node).',
    helpGroup: NODES,
  }),
};

/** The helper pods a fleet command starts on each node. */
export const helperFlags = {
  image: Flags.string({
    description: 'Tools image of the helper pods (default: the tools image, under NETDIAG_REGISTRY if set).',
    helpGroup: HELPERS,
  }),
  'pod-running-timeout': Flags.string({
    description: 'How long a helper pod may take to run before its node is reported unavailable.',
    default: '1m',
    helpGroup: HELPERS,
  }),
};

/** Everything a diagnosis command (bw, dns, check, node, doctor) takes besides its own flags. */
export const diagnosticFlags = { ...outputFlags, ...nodeSelectionFlags, ...helperFlags };

export type DiagnosticFlagValues = Interfaces.InferredFlags<typeof diagnosticFlags>;

/** Global flag values → typed access options. Pure; throws a usage error (exit 2) on a bad --request-timeout. */
export function kubeAccessFromFlags(
  flags: Pick<GlobalFlagValues, 'kubeconfig' | 'context' | 'cluster' | 'user' | 'namespace' | 'request-timeout'>,
): KubeAccessOptions {
  return {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    cluster: flags.cluster,
    user: flags.user,
    namespace: flags.namespace,
    requestTimeoutMs: parseDuration(flags['request-timeout'], 'request-timeout'),
  };
}

/** `--nodes a,b` / `--node-selector k=v` → a {@link NodeSelection}. Pure; an empty name is bad input (exit 2). */
export function nodeSelectionFromFlags(flags: Pick<DiagnosticFlagValues, 'nodes' | 'node-selector'>): NodeSelection {
  if (flags.nodes !== undefined) {
    const names = flags.nodes.split(',').map((name) => name.trim());
    if (names.some((name) => name === ''))
      throw usageError(`invalid --nodes "${flags.nodes}": empty node name`, 'use --nodes NAME[,NAME...]');
    return { names };
  }
  if (flags['node-selector'] !== undefined) {
    if (flags['node-selector'].trim() === '')
      throw usageError('invalid --node-selector: empty', 'use --node-selector key=value');
    return { labelSelector: flags['node-selector'] };
  }
  return {};
}
