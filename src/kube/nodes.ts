/**
 * Which nodes a fleet command works on, shared by every such command: all Ready, schedulable nodes by default;
 * `--nodes a,b` or `--node-selector k=v` to choose. Resolved before anything is created, so a typo exits 2 and
 * leaves nothing behind. Choosing is pure (unit-tested); {@link selectNodes} only adds the one list request.
 */
import { environmentError, usageError } from '../lib/errors.js';
import type { KubeClient, V1Node } from './client.js';

export interface NodeSelection {
  /** Node names as the user typed them (full names, or the part before the first dot when it is unambiguous). */
  readonly names?: readonly string[];
  /** A label selector (`kubernetes.io/arch=amd64`, `pool in (a,b)`), evaluated by the API server. */
  readonly labelSelector?: string;
}

export interface SelectedNode {
  readonly name: string;
  /** The InternalIP address, when the node reports one. */
  readonly internalIP: string | undefined;
  /** The Ready condition is True. */
  readonly ready: boolean;
  /** Not cordoned (spec.unschedulable). Helper pods bypass the scheduler, so this only shapes the default choice. */
  readonly schedulable: boolean;
}

/** The facts about a node that selection and reports need. Pure. */
export function describeNode(node: V1Node): SelectedNode {
  return {
    name: node.metadata?.name ?? '',
    internalIP: node.status?.addresses?.find((address) => address.type === 'InternalIP')?.address,
    ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    schedulable: node.spec?.unschedulable !== true,
  };
}

/** Finds a typed name: exact, else the one node whose name starts with `name.` (worker1 → worker1.kube.local). */
function findNode(nodes: readonly SelectedNode[], typed: string): SelectedNode | undefined {
  const exact = nodes.find((node) => node.name === typed);
  if (exact) return exact;
  const short = nodes.filter((node) => node.name.startsWith(`${typed}.`));
  return short.length === 1 ? short[0] : undefined;
}

/**
 * Picks the nodes from the listed ones (already filtered by the label selector, if any). Named nodes are taken as
 * they are, Ready or not (the user asked for them; an unusable one becomes "unavailable" in the report); otherwise
 * only Ready, schedulable nodes. Throws a usage error (exit 2) for an unknown name or a selector that matches
 * nothing, an environment error (exit 3) when the cluster has no usable node. Pure.
 */
export function pickNodes(listed: readonly V1Node[], selection: NodeSelection): SelectedNode[] {
  const nodes = listed.map(describeNode).sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  if (selection.names && selection.names.length > 0) {
    const picked: SelectedNode[] = [];
    const unknown: string[] = [];
    for (const typed of selection.names) {
      const node = findNode(nodes, typed);
      if (!node) unknown.push(typed);
      else if (!picked.includes(node)) picked.push(node);
    }
    if (unknown.length > 0) {
      const known = nodes.map((node) => node.name).join(', ');
      throw usageError(
        `${unknown.length === 1 ? 'node' : 'nodes'} ${unknown.map((name) => `"${name}"`).join(', ')} not found${selection.labelSelector ? ` among nodes matching ${selection.labelSelector}` : ''}`,
        known ? `use names from \`kubectl get nodes\`: ${known}` : 'list nodes with `kubectl get nodes`',
      );
    }
    return picked;
  }
  const usable = nodes.filter((node) => node.ready && node.schedulable);
  if (usable.length > 0) return usable;
  if (selection.labelSelector && nodes.length === 0) {
    throw usageError(
      `no node matches --node-selector ${selection.labelSelector}`,
      'check the labels with `kubectl get nodes --show-labels`',
    );
  }
  throw environmentError(
    `none of the ${nodes.length} node(s)${selection.labelSelector ? ` matching ${selection.labelSelector}` : ''} is Ready and schedulable`,
    'name nodes with --nodes to use them anyway, or check `kubectl get nodes`',
  );
}

/** Lists the nodes (one request) and picks the selected ones; see {@link pickNodes}. */
export async function selectNodes(
  client: KubeClient,
  selection: NodeSelection,
  signal: AbortSignal,
): Promise<SelectedNode[]> {
  const listed = await client.listNodes(selection.labelSelector ? { labelSelector: selection.labelSelector } : {}, {
    signal,
    onFailure: (failure) =>
      failure.httpStatus === 400 && selection.labelSelector
        ? usageError(
            `invalid --node-selector "${selection.labelSelector}": ${failure.message}`,
            'use key=value, key!=value, key in (a,b) or key',
          )
        : undefined,
  });
  return pickNodes(listed, selection);
}
