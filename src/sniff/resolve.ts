/**
 * Target resolution: turns a {@link TargetQuery} into the concrete pods (with container, container ID, node and IPs)
 * or the node to capture. Everything unknown fails here with exit 2, before anything is created.
 */
import { environmentError, usageError } from '../lib/errors.js';
import type { CallOptions, KubeClient, V1LabelSelector, V1Pod } from '../kube/client.js';
import type { AccessRequirement } from '../kube/preflight.js';
import type { TargetQuery } from './target.js';

export interface PodCaptureTarget {
  readonly kind: 'pod';
  readonly namespace: string;
  readonly pod: string;
  /** The container whose view is captured (upload mode runs in it, node mode enters its network namespace). */
  readonly container: string;
  /** Runtime container ID without the `containerd://` scheme. */
  readonly containerId: string | undefined;
  readonly nodeName: string;
  readonly podIPs: readonly string[];
  readonly hostNetwork: boolean;
  readonly spec: V1Pod;
}

export interface NodeCaptureTarget {
  readonly kind: 'node';
  readonly nodeName: string;
  readonly addresses: readonly string[];
}

export type CaptureTarget = PodCaptureTarget | NodeCaptureTarget;

/**
 * The reads of resolving any target in `namespace` (and of the pcapng name records): pods, workloads, Services and
 * their EndpointSlices, nodes. Kept next to the calls below; docs/rbac.yaml's test checks it grants them.
 */
export function resolveRequirements(namespace: string): AccessRequirement[] {
  const read = (resource: string, verbs: readonly string[], group = '', ns: string | undefined = namespace) =>
    verbs.map((verb) => ({ verb, resource, group, namespace: ns }));
  return [
    ...read('pods', ['get', 'list']),
    ...['deployments', 'statefulsets', 'daemonsets', 'replicasets'].flatMap((resource) =>
      read(resource, ['get'], 'apps'),
    ),
    ...read('services', ['get', 'list']),
    ...read('endpointslices', ['list'], 'discovery.k8s.io'),
    ...read('nodes', ['get', 'list'], '', undefined),
  ];
}

/** `namespace/pod/container` or `node/NAME`: how a target is named in messages, stats and the pcapng interface. */
export function targetLabel(target: CaptureTarget): string {
  return target.kind === 'node' ? `node/${target.nodeName}` : `${target.namespace}/${target.pod}/${target.container}`;
}

export interface ResolveOptions {
  /** The namespace of -n (or the context's). */
  readonly namespace: string;
  /** -A: a selector across all namespaces. */
  readonly allNamespaces: boolean;
  /** -c; the first container of each pod when undefined. */
  readonly container: string | undefined;
  readonly signal: AbortSignal;
}

/** The label selector string of a workload's `spec.selector` (matchLabels and matchExpressions). Pure. */
export function labelSelectorString(selector: V1LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) parts.push(`${key}=${value}`);
  for (const expr of selector?.matchExpressions ?? []) {
    const values = (expr.values ?? []).join(',');
    switch (expr.operator) {
      case 'In':
        parts.push(`${expr.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${expr.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(expr.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${expr.key}`);
        break;
      default:
        throw usageError(`unsupported selector operator ${expr.operator}`, 'capture its pods with -l instead');
    }
  }
  return parts.join(',');
}

/**
 * Builds the capture target of one pod: checks the pod runs and has the container, and reads the container ID.
 * Pure (the pod object comes from the API), so every rejection is unit-tested.
 */
export function podTarget(pod: V1Pod, container: string | undefined): PodCaptureTarget {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const containers = pod.spec?.containers ?? [];
  const chosen = container ?? containers[0]?.name;
  if (chosen === undefined || !containers.some((c) => c.name === chosen)) {
    throw usageError(
      `container "${container}" not found in pod ${namespace}/${name}`,
      `its containers are: ${containers.map((c) => c.name).join(', ') || '(none)'}`,
    );
  }
  const phase = pod.status?.phase;
  if (phase !== 'Running') {
    throw usageError(`pod ${namespace}/${name} is ${phase ?? 'not running'}`, 'capture a Running pod');
  }
  const status = pod.status?.containerStatuses?.find((s) => s.name === chosen);
  if (!status?.state?.running) {
    const reason = status?.state?.waiting?.reason ?? (status?.state?.terminated ? 'terminated' : 'not running');
    throw usageError(`container ${chosen} of pod ${namespace}/${name} is ${reason}`, 'capture a running container');
  }
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw usageError(`pod ${namespace}/${name} is not scheduled to a node`, 'capture a Running pod');
  const ips = (pod.status?.podIPs ?? []).map((entry) => entry.ip).filter((ip): ip is string => typeof ip === 'string');
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return {
    kind: 'pod',
    namespace,
    pod: name,
    container: chosen,
    containerId: status.containerID?.replace(/^[a-z0-9-]+:\/\//, ''),
    nodeName,
    podIPs: ips,
    hostNetwork: pod.spec?.hostNetwork === true,
    spec: pod,
  };
}

const running = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Running' && pod.metadata?.deletionTimestamp === undefined;

/** Resolves the query against the cluster. Several pods come back sorted by namespace and name. */
export async function resolveTargets(
  client: KubeClient,
  query: TargetQuery,
  options: ResolveOptions,
): Promise<CaptureTarget[]> {
  const call: CallOptions = { signal: options.signal };
  const ns = options.namespace;
  const fromPods = (pods: V1Pod[], what: string): PodCaptureTarget[] => {
    const live = pods
      .filter(running)
      .sort((a, b) =>
        `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`),
      );
    if (live.length === 0) {
      throw usageError(
        `${what} has no running pods`,
        `check it with \`kubectl get pods${options.allNamespaces ? ' -A' : ` -n ${ns}`}\``,
      );
    }
    return live.map((pod) => podTarget(pod, options.container));
  };
  switch (query.kind) {
    case 'pod':
      return [podTarget(await client.readPod(ns, query.name, call), options.container)];
    case 'node': {
      const node = await client.readNode(query.name, call);
      const addresses = (node.status?.addresses ?? [])
        .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
        .map((a) => a.address);
      return [{ kind: 'node', nodeName: query.name, addresses }];
    }
    case 'selector': {
      const pods = await client.listPods(
        options.allNamespaces ? undefined : ns,
        { labelSelector: query.selector },
        call,
      );
      return fromPods(
        pods,
        `selector "${query.selector}"${options.allNamespaces ? ' (all namespaces)' : ` in namespace ${ns}`}`,
      );
    }
    case 'workload': {
      const notFound = (failure: { kind: string }) =>
        failure.kind === 'not-found'
          ? usageError(
              `${query.resource} "${query.name}" not found in namespace "${ns}"`,
              `list them with \`kubectl get ${query.resource} -n ${ns}\``,
            )
          : undefined;
      const opts = { ...call, onFailure: notFound };
      const workload =
        query.resource === 'deployment'
          ? await client.readDeployment(ns, query.name, opts)
          : query.resource === 'statefulset'
            ? await client.readStatefulSet(ns, query.name, opts)
            : query.resource === 'daemonset'
              ? await client.readDaemonSet(ns, query.name, opts)
              : query.resource === 'replicaset'
                ? await client.readReplicaSet(ns, query.name, opts)
                : undefined;
      if (workload === undefined)
        throw usageError(`capturing a ${query.resource} is not supported`, "use -l with its pods' labels");
      const selector = labelSelectorString(workload.spec?.selector);
      if (selector === '')
        throw environmentError(
          `${query.resource} ${ns}/${query.name} has an empty selector`,
          "use -l with its pods' labels",
        );
      const pods = await client.listPods(ns, { labelSelector: selector }, call);
      return fromPods(pods, `${query.resource} ${ns}/${query.name}`);
    }
    case 'service': {
      await client.readService(ns, query.name, {
        ...call,
        onFailure: (failure) =>
          failure.kind === 'not-found'
            ? usageError(
                `service "${query.name}" not found in namespace "${ns}"`,
                `list them with \`kubectl get svc -n ${ns}\``,
              )
            : undefined,
      });
      const slices = await client.listEndpointSlices(
        ns,
        { labelSelector: `kubernetes.io/service-name=${query.name}` },
        call,
      );
      const podNames = new Set<string>();
      for (const slice of slices) {
        for (const endpoint of slice.endpoints ?? []) {
          if (endpoint.targetRef?.kind === 'Pod' && endpoint.targetRef.name) podNames.add(endpoint.targetRef.name);
        }
      }
      if (podNames.size === 0)
        throw usageError(
          `service ${ns}/${query.name} has no endpoint pods`,
          `check \`kubectl get endpointslices -n ${ns} -l kubernetes.io/service-name=${query.name}\``,
        );
      const pods = await Promise.all([...podNames].map((name) => client.readPod(ns, name, call)));
      return fromPods(pods, `service ${ns}/${query.name}`);
    }
  }
}
