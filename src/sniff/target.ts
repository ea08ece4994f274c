import { usageError } from '../lib/errors.js';

/** What the user asked to capture, before anything is looked up in the cluster. */
export type TargetQuery =
  | { kind: 'pod'; name: string }
  | { kind: 'workload'; resource: WorkloadResource; name: string }
  | { kind: 'service'; name: string }
  | { kind: 'node'; name: string }
  | { kind: 'selector'; selector: string };

export type WorkloadResource = 'deployment' | 'statefulset' | 'daemonset' | 'replicaset' | 'job';

/** The spellings kubectl accepts for each resource (`deploy/x`, `deployments/x`, `deployment.apps/x`, ...). */
const RESOURCE_ALIASES: Record<string, TargetQuery['kind'] | WorkloadResource> = {
  po: 'pod',
  pod: 'pod',
  pods: 'pod',
  deploy: 'deployment',
  deployment: 'deployment',
  deployments: 'deployment',
  'deployment.apps': 'deployment',
  'deployments.apps': 'deployment',
  sts: 'statefulset',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  'statefulset.apps': 'statefulset',
  ds: 'daemonset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  'daemonset.apps': 'daemonset',
  rs: 'replicaset',
  replicaset: 'replicaset',
  replicasets: 'replicaset',
  'replicaset.apps': 'replicaset',
  job: 'job',
  jobs: 'job',
  'job.batch': 'job',
  svc: 'service',
  service: 'service',
  services: 'service',
  no: 'node',
  node: 'node',
  nodes: 'node',
};

const WORKLOADS = new Set<string>(['deployment', 'statefulset', 'daemonset', 'replicaset', 'job']);

// RFC 1123 subdomain: what Kubernetes accepts for pod, node and most object names.
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const targetHint =
  'give a pod name, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, svc/NAME, node/NAME, or -l SELECTOR (with -A for all namespaces)';

/**
 * Turns the TARGET argument and the selector flag into a query. Exactly one of them must be given; names are
 * checked against Kubernetes naming rules here so a typo fails with exit 2 before any API call.
 */
export function parseTarget(target: string | undefined, selector: string | undefined): TargetQuery {
  if (target !== undefined && selector !== undefined) {
    throw usageError(`both TARGET "${target}" and --selector "${selector}" given`, 'give one of them');
  }
  if (selector !== undefined) {
    if (selector.trim() === '') throw usageError('empty --selector', targetHint);
    return { kind: 'selector', selector: selector.trim() };
  }
  if (target === undefined || target.trim() === '') {
    throw usageError('no capture target given', targetHint);
  }
  const slash = target.indexOf('/');
  const resourceText = slash < 0 ? 'pod' : target.slice(0, slash).toLowerCase();
  const name = slash < 0 ? target : target.slice(slash + 1);
  const resource = RESOURCE_ALIASES[resourceText];
  if (resource === undefined) {
    throw usageError(`unsupported target type "${resourceText}" in "${target}"`, targetHint);
  }
  if (!NAME.test(name) || name.length > 253) {
    throw usageError(
      `invalid name "${name}" in target "${target}"`,
      'names are lower-case letters, digits, "-" and "."',
    );
  }
  if (WORKLOADS.has(resource)) return { kind: 'workload', resource: resource as WorkloadResource, name };
  switch (resource) {
    case 'pod':
      return { kind: 'pod', name };
    case 'service':
      return { kind: 'service', name };
    default:
      return { kind: 'node', name };
  }
}

/** How a query is written back in messages: `deploy/web`, `-l app=web`. */
export function describeTarget(query: TargetQuery): string {
  switch (query.kind) {
    case 'pod':
      return `pod/${query.name}`;
    case 'workload':
      return `${query.resource}/${query.name}`;
    case 'service':
      return `svc/${query.name}`;
    case 'node':
      return `node/${query.name}`;
    case 'selector':
      return `-l ${query.selector}`;
  }
}
