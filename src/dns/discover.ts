/**
 * Discovery: everything the DNS checks compare against is read from the cluster, never assumed — the cluster domain
 * and the nameserver pods get (from a probe pod's resolv.conf), the kube-dns Service and its endpoints, the CoreDNS
 * pods and Corefile, a node-local cache (its address from resolv.conf, confirmed by the node-cache DaemonSet and its
 * ConfigMap), CoreDNS's RBAC, recent CoreDNS logs and the DNS autoscaler. The deciding parts are pure functions; the
 * one function with I/O ({@link discoverCluster}) only fetches, in parallel.
 */
import { environmentError } from '../lib/errors.js';
import type {
  KubeClient,
  V1DaemonSet,
  V1Deployment,
  V1EndpointSlice,
  V1Node,
  V1Pod,
  V1Service,
} from '../kube/client.js';
import type { AutoscalerFacts, ClusterFacts, CorednsPod, NodeLocalFacts } from './facts.js';
import {
  classifyCorednsLog,
  expectedReplicas,
  parseAutoscalerParams,
  parseCorefile,
  summarizeCorefile,
  type CorefileSummary,
  type ResolvConf,
} from './parse.js';

export const DNS_NAMESPACE = 'kube-system';
/** The Service name every distribution keeps for cluster DNS, whatever runs behind it. */
export const KUBE_DNS_SERVICE = 'kube-dns';
/** Names of the DNS autoscaler (cluster-proportional-autoscaler): kubespray's, then GKE's / the addon's. */
export const AUTOSCALER_NAMES = ['dns-autoscaler', 'kube-dns-autoscaler', 'coredns-autoscaler'] as const;
/** How far back CoreDNS logs are read for errors. */
export const LOG_SINCE_SECONDS = 600;
export const LOG_TAIL_LINES = 300;
/** What CoreDNS's kubernetes plugin lists and watches (its ClusterRole). */
export const COREDNS_NEEDS = [
  { resource: 'endpointslices', group: 'discovery.k8s.io' },
  { resource: 'services', group: '' },
  { resource: 'pods', group: '' },
  { resource: 'namespaces', group: '' },
] as const;

/** The cluster domain from a pod's search list: `<ns>.svc.<domain>` first, else `svc.<domain>`. Pure. */
export function clusterDomainFromSearch(search: readonly string[], namespace: string): string | undefined {
  const prefix = `${namespace}.svc.`;
  const own = search.find((domain) => domain.startsWith(prefix));
  if (own) return own.slice(prefix.length).replace(/\.$/, '');
  const svc = search.find((domain) => domain.startsWith('svc.'));
  return svc?.slice('svc.'.length).replace(/\.$/, '');
}

/**
 * The cluster DNS Service: `kube-dns` (kubeadm, kubespray, k3s), else the one labelled `k8s-app=kube-dns` (RKE2's
 * `rke2-coredns-rke2-coredns`, Helm-installed CoreDNS). Pure.
 */
export const clusterDnsService = (services: readonly V1Service[]): V1Service | undefined =>
  services.find((service) => service.metadata?.name === KUBE_DNS_SERVICE) ??
  services.find((service) => service.metadata?.labels?.['k8s-app'] === 'kube-dns');

/** `53/UDP`, `53/TCP` ... of a Service. Pure. */
export const servicePorts = (service: V1Service): string[] =>
  (service.spec?.ports ?? []).map((port) => `${port.port}/${port.protocol ?? 'TCP'}`);

/** CoreDNS pods as the checks see them. Pure. */
export function corednsPods(pods: readonly V1Pod[]): CorednsPod[] {
  return pods
    .map((pod) => ({
      name: pod.metadata?.name ?? '',
      node: pod.spec?.nodeName ?? '',
      ip: pod.status?.podIP ?? '',
      ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Ready endpoint addresses over a Service's EndpointSlices. Pure. */
export function readyEndpoints(slices: readonly V1EndpointSlice[]): string[] {
  const addresses = slices.flatMap((slice) =>
    (slice.endpoints ?? []).filter((endpoint) => endpoint.conditions?.ready !== false).flatMap((e) => e.addresses),
  );
  return [...new Set(addresses)].sort();
}

/**
 * Upstream addresses a CoreDNS `forward` sends to, when they are plain DNS on port 53 (`8.8.8.8`, `dns://1.1.1.1:53`);
 * `/etc/resolv.conf` (the node's resolvers, not visible from a pod), TLS and other ports give none. Pure.
 */
export function upstreamAddresses(forward: readonly string[]): string[] {
  const addresses: string[] = [];
  for (const target of forward) {
    const match = /^(?:dns:\/\/)?(\[[0-9a-fA-F:]+\]|[0-9.]+|[0-9a-fA-F:]+)(?::(\d+))?$/.exec(target);
    if (!match?.[1] || (match[2] !== undefined && match[2] !== '53')) continue;
    addresses.push(match[1].replace(/^\[|\]$/g, ''));
  }
  return addresses;
}

/** A DaemonSet that is a node-local DNS cache (kubespray's nodelocaldns, the k8s-dns-node-cache addon). Pure. */
export function isNodeLocalDaemonSet(ds: V1DaemonSet): boolean {
  const labels = Object.values({ ...ds.metadata?.labels, ...ds.spec?.template?.metadata?.labels });
  const containers = ds.spec?.template?.spec?.containers ?? [];
  return (
    /node-?local-?dns|node-cache/.test(ds.metadata?.name ?? '') ||
    labels.some((value) => /node-?local-?dns/.test(value)) ||
    containers.some(
      (c) => /k8s-dns-node-cache/.test(c.image ?? '') || [...(c.args ?? []), ...(c.command ?? [])].includes('-localip'),
    )
  );
}

/** Addresses a node-cache DaemonSet listens on: its `-localip a,b` argument. Pure. */
export function daemonSetLocalIPs(ds: V1DaemonSet): string[] {
  for (const container of ds.spec?.template?.spec?.containers ?? []) {
    const args = [...(container.command ?? []), ...(container.args ?? [])];
    const index = args.findIndex((arg) => arg === '-localip' || arg.startsWith('-localip='));
    if (index < 0) continue;
    const value = args[index]?.includes('=') ? args[index]?.split('=')[1] : args[index + 1];
    return (value ?? '').split(',').filter(Boolean);
  }
  return [];
}

/** The ConfigMap a DaemonSet mounts its Corefile from (the first configMap volume). Pure. */
export const daemonSetConfigMap = (ds: V1DaemonSet): string | undefined =>
  ds.spec?.template?.spec?.volumes?.find((volume) => volume.configMap?.name)?.configMap?.name;

/** Nodes whose node-cache pod is missing or not Ready. Pure. */
export function nodesWithoutReadyPod(pods: readonly V1Pod[], nodes: readonly string[]): string[] {
  const ready = new Set(
    pods
      .filter((pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((pod) => pod.spec?.nodeName),
  );
  return nodes.filter((node) => !ready.has(node));
}

/**
 * The node-local cache: pods' nameserver when it is not kube-dns, confirmed (or, when pods use kube-dns, found) by a
 * node-cache DaemonSet's `-localip` or its Corefile's `bind`. Pure.
 */
export function nodeLocalAddress(
  nameserver: string | undefined,
  kubeDnsIP: string,
  daemonSet: V1DaemonSet | undefined,
  corefile: CorefileSummary | undefined,
): { address: string; source: string } | undefined {
  const declared = [...(daemonSet ? daemonSetLocalIPs(daemonSet) : []), ...(corefile?.bind ?? [])].filter(
    (address) => address !== kubeDnsIP && /^[0-9a-fA-F:.]+$/.test(address),
  );
  if (nameserver && nameserver !== kubeDnsIP)
    return {
      address: nameserver,
      source: declared.includes(nameserver)
        ? `pods' resolv.conf, confirmed by daemonset ${daemonSet?.metadata?.name}`
        : "pods' resolv.conf",
    };
  const first = declared[0];
  return first && daemonSet
    ? { address: first, source: `daemonset kube-system/${daemonSet.metadata?.name}` }
    : undefined;
}

/** Schedulable nodes and their allocatable cores, as cluster-proportional-autoscaler counts them. Pure. */
export function clusterSize(nodes: readonly V1Node[], includeUnschedulable: boolean): { nodes: number; cores: number } {
  const counted = nodes.filter((node) => includeUnschedulable || node.spec?.unschedulable !== true);
  const millicores = counted.reduce((sum, node) => sum + cpuMillicores(node.status?.allocatable?.cpu ?? '0'), 0);
  return { nodes: counted.length, cores: Math.floor(millicores / 1000) };
}

/** `2`, `1500m`, `0.5` → millicores. Pure. */
export function cpuMillicores(quantity: string): number {
  if (quantity.endsWith('m')) return Number(quantity.slice(0, -1)) || 0;
  return Math.round((Number(quantity) || 0) * 1000);
}

/** The API objects the DNS checks read, fetched once (optional ones undefined when absent or not readable). */
export interface DnsObjects {
  readonly kubeDns: V1Service;
  readonly kubernetes: V1Service;
  readonly nodes: readonly V1Node[];
  readonly corednsPods: readonly V1Pod[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly deployments: readonly V1Deployment[];
  readonly corefile: string | undefined;
  readonly nodeLocalDaemonSet: V1DaemonSet | undefined;
  readonly nodeLocalCorefile: string | undefined;
  readonly nodeLocalPods: readonly V1Pod[];
  /** The autoscaler Deployment's name and its ConfigMap's data. */
  readonly autoscaler: { readonly name: string; readonly data: Readonly<Record<string, string>> } | undefined;
  readonly rbacDenied: readonly string[] | undefined;
  readonly corednsLogs: readonly { readonly pod: string; readonly log: string }[];
}

/**
 * Fetches the cluster side, requests in parallel rounds (about 12 requests plus 2 per CoreDNS pod). Only the kube-dns
 * and kubernetes Services, nodes, CoreDNS pods and endpoints are required; a missing permission for the rest leaves
 * that fact out (its finding is skipped), it does not stop the run.
 */
export async function fetchDnsObjects(client: KubeClient, signal: AbortSignal): Promise<DnsObjects> {
  const call = { signal };
  const optional = <T>(promise: Promise<T>): Promise<T | undefined> => promise.catch(() => undefined);
  const [systemServices, kubernetes, daemonSets, deployments, corefileMap, nodes] = await Promise.all([
    client.listServices(DNS_NAMESPACE, {}, call),
    client.readService('default', 'kubernetes', call),
    optional(client.listDaemonSets(DNS_NAMESPACE, {}, call)),
    optional(client.listDeployments(DNS_NAMESPACE, {}, call)),
    optional(client.readConfigMap(DNS_NAMESPACE, 'coredns', call)),
    client.listNodes({}, call),
  ]);
  const kubeDns = clusterDnsService(systemServices);
  if (!kubeDns)
    throw environmentError(
      `no cluster DNS Service in ${DNS_NAMESPACE} (neither named ${KUBE_DNS_SERVICE} nor labelled k8s-app=kube-dns)`,
      `check \`kubectl -n ${DNS_NAMESPACE} get services -o wide\`: cluster DNS is not installed, or runs elsewhere`,
    );
  const selector = Object.entries(kubeDns.spec?.selector ?? { 'k8s-app': 'kube-dns' })
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const nodeLocalDaemonSet = (daemonSets ?? []).find(isNodeLocalDaemonSet);
  const nodeLocalMapName = nodeLocalDaemonSet ? daemonSetConfigMap(nodeLocalDaemonSet) : undefined;
  const autoscalerName = AUTOSCALER_NAMES.find((name) => deployments?.some((d) => d.metadata?.name === name));
  const [pods, endpointSlices, nodeLocalMap, nodeLocalPods, autoscalerMap] = await Promise.all([
    client.listPods(DNS_NAMESPACE, { labelSelector: selector }, call),
    client.listEndpointSlices(
      DNS_NAMESPACE,
      { labelSelector: `kubernetes.io/service-name=${kubeDns.metadata?.name ?? KUBE_DNS_SERVICE}` },
      call,
    ),
    nodeLocalMapName ? optional(client.readConfigMap(DNS_NAMESPACE, nodeLocalMapName, call)) : undefined,
    nodeLocalDaemonSet
      ? optional(client.listPods(DNS_NAMESPACE, { labelSelector: labelSelectorOf(nodeLocalDaemonSet) }, call))
      : undefined,
    autoscalerName ? optional(client.readConfigMap(DNS_NAMESPACE, autoscalerName, call)) : undefined,
  ]);
  const serviceAccount = pods[0]?.spec?.serviceAccountName;
  const [rbacDenied, corednsLogs] = await Promise.all([
    serviceAccount ? optional(deniedToCoredns(client, serviceAccount, call)) : undefined,
    Promise.all(
      pods.map(async (pod) => {
        const name = pod.metadata?.name ?? '';
        const query = { sinceSeconds: LOG_SINCE_SECONDS, tailLines: LOG_TAIL_LINES };
        return { pod: name, log: (await optional(client.readPodLog(DNS_NAMESPACE, name, query, call))) ?? '' };
      }),
    ),
  ]);
  return {
    kubeDns,
    kubernetes,
    nodes,
    corednsPods: pods,
    endpointSlices,
    deployments: deployments ?? [],
    corefile: corefileMap?.data?.Corefile,
    nodeLocalDaemonSet,
    nodeLocalCorefile: nodeLocalMap?.data?.Corefile,
    nodeLocalPods: nodeLocalPods ?? [],
    autoscaler: autoscalerName ? { name: autoscalerName, data: autoscalerMap?.data ?? {} } : undefined,
    rbacDenied,
    corednsLogs,
  };
}

/** The cluster facts from the fetched objects and the resolv.conf kubelet gives pods in `namespace`. Pure. */
export function clusterFactsFrom(objects: DnsObjects, resolvConf: ResolvConf, namespace: string): ClusterFacts {
  const coredns = corednsPods(objects.corednsPods);
  const corefile = objects.corefile ? summarizeCorefile(parseCorefile(objects.corefile)) : undefined;
  const nodeLocalCorefile = objects.nodeLocalCorefile
    ? summarizeCorefile(parseCorefile(objects.nodeLocalCorefile))
    : undefined;
  const kubeDnsIP = objects.kubeDns.spec?.clusterIP ?? '';
  const set = objects.nodeLocalDaemonSet;
  const local = nodeLocalAddress(resolvConf.nameservers[0], kubeDnsIP, set, nodeLocalCorefile);
  const nodeNames = objects.nodes.map((node) => node.metadata?.name ?? '');
  const nodeLocal: NodeLocalFacts | undefined = local && {
    ...local,
    corefile: nodeLocalCorefile,
    daemonSet: set && {
      name: set.metadata?.name ?? '',
      desired: set.status?.desiredNumberScheduled ?? 0,
      ready: set.status?.numberReady ?? 0,
      notReadyNodes: nodesWithoutReadyPod(objects.nodeLocalPods, nodeNames),
    },
  };
  return {
    domain: clusterDomainFromSearch(resolvConf.search, namespace) ?? corefile?.kubernetesZones[0] ?? 'cluster.local',
    kubernetesIP: objects.kubernetes.spec?.clusterIP ?? '',
    kubeDns: {
      namespace: DNS_NAMESPACE,
      name: objects.kubeDns.metadata?.name ?? KUBE_DNS_SERVICE,
      ip: kubeDnsIP,
      ports: servicePorts(objects.kubeDns),
    },
    coredns: {
      pods: coredns,
      endpoints: readyEndpoints(objects.endpointSlices),
      desired: corednsDeployment(objects.deployments, objects.corednsPods)?.spec?.replicas,
    },
    corefile,
    nodeLocal,
    rbacDenied: objects.rbacDenied,
    logEvents: objects.corednsLogs.flatMap(({ pod, log }) =>
      classifyCorednsLog(log).map((event) => ({ ...event, pod })),
    ),
    autoscaler: objects.autoscaler && assessAutoscaler(objects.autoscaler, objects.nodes, coredns.length),
  };
}

const labelSelectorOf = (ds: V1DaemonSet): string =>
  Object.entries(ds.spec?.selector?.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

async function deniedToCoredns(client: KubeClient, serviceAccount: string, call: { signal: AbortSignal }) {
  const user = `system:serviceaccount:${DNS_NAMESPACE}:${serviceAccount}`;
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${DNS_NAMESPACE}`, 'system:authenticated'];
  const checks = COREDNS_NEEDS.flatMap((need) => ['list', 'watch'].map((verb) => ({ ...need, verb })));
  const answers = await Promise.all(
    checks.map(async (check) => ({
      check,
      allowed: await client.canUser(
        user,
        groups,
        { verb: check.verb, resource: check.resource, group: check.group },
        call,
      ),
    })),
  );
  return answers.filter((answer) => !answer.allowed).map(({ check }) => `${check.verb} ${check.resource}`);
}

/** The Deployment running the CoreDNS pods (by the pods' ReplicaSet owner name), else the one named coredns. Pure. */
export function corednsDeployment(
  deployments: readonly V1Deployment[],
  pods: readonly V1Pod[],
): V1Deployment | undefined {
  const owner = pods[0]?.metadata?.ownerReferences?.find((ref) => ref.kind === 'ReplicaSet')?.name;
  return (
    deployments.find((d) => owner !== undefined && owner.startsWith(`${d.metadata?.name}-`)) ??
    deployments.find((d) => d.metadata?.name === 'coredns')
  );
}

/** The autoscaler's expected replica count for this cluster against CoreDNS's actual pods. Pure. */
export function assessAutoscaler(
  autoscaler: { name: string; data: Readonly<Record<string, string>> },
  nodes: readonly V1Node[],
  actual: number,
): AutoscalerFacts {
  const params = parseAutoscalerParams(autoscaler.data);
  const size = clusterSize(nodes, params?.includeUnschedulableNodes ?? false);
  return {
    name: autoscaler.name,
    params,
    ...size,
    expected: params ? expectedReplicas(params, size.nodes, size.cores) : undefined,
    actual,
  };
}
