/**
 * `node`: every selected node's network plumbing, read-only, through the node-inspector fleet (privileged,
 * hostNetwork + hostPID): two execs per node (discover, inspect; collect.ts), parsed into facts (facts.ts), judged
 * (checks.ts) and compared across nodes. API requests: the nodes (pod CIDRs, runtime versions) and the Services
 * before and after reading the rules (so a Service created or deleted meanwhile is not mistaken for a kube-proxy
 * fault); with `--pod`, the pod.
 */
import { mapBounded } from '../lib/concurrency.js';
import { usageError } from '../lib/errors.js';
import type { DiagnosticResult, Finding, Unavailable } from '../findings/model.js';
import type { V1Pod, V1Service } from '../kube/client.js';
import type { DiagnosticContext } from '../kube/context.js';
import { fleetRequirements, type Fleet } from '../kube/fleet.js';
import type { AccessRequirement } from '../kube/preflight.js';
import {
  clusterUsesKubeProxy,
  fleetRows,
  kubeProxyCoverage,
  nodeFindings,
  oddOneOutFindings,
  type Coverage,
  type ExpectedServicePort,
  type FleetRow,
} from './checks.js';
import { discoverArgv, inspectArgv, rulesArgv } from './collect.js';
import { CONTAINER_ID, discover, inspectPlan, nodeFacts, type NodeFacts, type NodeIdentity } from './facts.js';
import { parseSections, type Sections } from './sections.js';

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
}

export interface NodeOptions {
  /** Show this pod's containers as the runtime has them (the `crictl inspect` of the seed). */
  readonly pod?: PodRef;
  /** Also collect everything raw for a support bundle (all net sysctls, neighbours). */
  readonly full: boolean;
  /** Bound of each exec on a node. */
  readonly execTimeoutMs: number;
  /** How long to wait before reading kube-proxy's rules again when the first read has gaps. */
  readonly recheckDelayMs: number;
  /** A Service younger than this when the rules are read may not be programmed yet. */
  readonly serviceGraceMs: number;
}

export const DEFAULT_NODE_OPTIONS: Omit<NodeOptions, 'pod' | 'full'> = {
  execTimeoutMs: 30_000,
  recheckDelayMs: 3_000,
  serviceGraceMs: 5_000,
};

export interface InspectedContainer {
  readonly name: string;
  readonly id: string;
  /** What the runtime has for it: crictl inspect's JSON, or containerd's task spec summary. */
  readonly inspect?: unknown;
}

export interface PodInspection {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly containers: readonly InspectedContainer[];
}

export interface NodeData {
  readonly nodes: readonly NodeFacts[];
  /** The facts side by side, with the odd one out of each compared fact. */
  readonly fleet: readonly FleetRow[];
  /** Service ports the API has (what kube-proxy's rules are compared with). */
  readonly servicePorts: number;
  readonly pod?: PodInspection;
}

/** What one node printed, by section: the support bundle's content. */
export interface NodeRaw {
  readonly node: string;
  readonly discovered: Sections;
  readonly inspected: Sections;
}

export interface NodeRun {
  readonly result: DiagnosticResult<NodeData>;
  readonly raw: readonly NodeRaw[];
}

/**
 * What a node run needs: its node-inspector pods (privileged: the namespace must allow it) in `namespace`, the nodes,
 * the Services of every namespace (what kube-proxy's rules are compared with), and with --pod that pod.
 */
export function nodeRequirements(namespace: string): AccessRequirement[] {
  return [
    ...fleetRequirements(namespace),
    { verb: 'list', resource: 'nodes' },
    { verb: 'list', resource: 'services' },
    { verb: 'get', resource: 'pods' },
  ];
}

/** The node a pod runs on (for `--pod` without a node selection); a usage error when it is not scheduled. */
export async function podNode(ctx: Pick<DiagnosticContext, 'client' | 'signal'>, ref: PodRef): Promise<string> {
  const pod = await ctx.client.readPod(ref.namespace, ref.name, { signal: ctx.signal });
  const node = pod.spec?.nodeName;
  if (!node)
    throw usageError(
      `pod ${ref.namespace}/${ref.name} is not scheduled on a node yet`,
      'wait until it is, then run again',
    );
  return node;
}

/** Container ids of a pod from its status (`containerd://abc…` → `abc…`), init and ephemeral containers included. */
export function podContainerIds(pod: V1Pod): { name: string; id: string }[] {
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.ephemeralContainerStatuses ?? []),
  ];
  return statuses
    .map((status) => ({ name: status.name, id: (status.containerID ?? '').replace(/^[a-z-]+:\/\//, '') }))
    .filter((container) => CONTAINER_ID.test(container.id));
}

/**
 * The Service ports kube-proxy programs: every port of every Service with a ClusterIP (not headless, not
 * ExternalName, not handed to another proxy with service.kubernetes.io/service-proxy-name), keyed as kube-proxy's
 * rule comments name them. A port is settled when the Service is in both lists and older than the grace period.
 */
export function expectedServicePorts(
  before: readonly V1Service[],
  after: readonly V1Service[],
  readAt: number,
  graceMs: number,
): ExpectedServicePort[] {
  const key = (service: V1Service) => `${service.metadata?.namespace}/${service.metadata?.name}`;
  const stillThere = new Set(after.map(key));
  const seen = new Map<string, V1Service>();
  for (const service of [...before, ...after]) if (!seen.has(key(service))) seen.set(key(service), service);
  const ports: ExpectedServicePort[] = [];
  for (const service of seen.values()) {
    const spec = service.spec;
    const clusterIPs = (spec?.clusterIPs ?? (spec?.clusterIP ? [spec.clusterIP] : [])).filter(
      (ip) => ip && ip !== 'None',
    );
    if (spec?.type === 'ExternalName' || clusterIPs.length === 0) continue;
    if (service.metadata?.labels?.['service.kubernetes.io/service-proxy-name']) continue;
    const created = Date.parse(String(service.metadata?.creationTimestamp ?? ''));
    const settled =
      before.some((candidate) => key(candidate) === key(service)) &&
      stillThere.has(key(service)) &&
      Number.isFinite(created) &&
      created <= readAt - graceMs;
    for (const port of spec?.ports ?? []) {
      ports.push({ key: `${key(service)}${port.name ? `:${port.name}` : ''}`, clusterIPs, settled });
    }
  }
  return ports;
}

/** Gaps found twice (once on the first read, once on a read `recheckDelayMs` later, each against the API then). */
const confirmed = (first: Coverage, second: Coverage): Coverage => ({
  missing: first.missing.filter((key) => second.missing.includes(key)),
  stale: first.stale.filter((key) => second.stale.includes(key)),
  expected: second.expected,
});

interface Collected {
  readonly identity: NodeIdentity;
  readonly discovered: Sections;
  readonly inspected: Sections;
  readonly facts: NodeFacts;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

export async function inspectNodes(ctx: DiagnosticContext, options: NodeOptions): Promise<NodeRun> {
  const { client, signal, progress } = ctx;
  const names = ctx.nodes.map((node) => node.name);
  const pod = options.pod ? await client.readPod(options.pod.namespace, options.pod.name, { signal }) : undefined;
  if (pod && options.pod && !names.includes(pod.spec?.nodeName ?? '')) {
    throw usageError(
      `pod ${options.pod.namespace}/${options.pod.name} runs on ${pod.spec?.nodeName ?? 'no node'}, which is not among the selected nodes`,
      'select its node too (--nodes), or leave out the node selection',
    );
  }
  const podContainers = pod ? podContainerIds(pod) : [];
  const [apiNodes, servicesBefore] = await Promise.all([
    client.listNodes({}, { signal }),
    client.listServices(undefined, {}, { signal }),
  ]);
  const peers = apiNodes.map((node) => ({
    name: node.metadata?.name ?? '',
    podCIDRs: node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []),
  }));
  const identityOf = (name: string): NodeIdentity => {
    const api = apiNodes.find((node) => node.metadata?.name === name);
    return {
      name,
      internalIP: ctx.nodes.find((node) => node.name === name)?.internalIP,
      podCIDRs: peers.find((peer) => peer.name === name)?.podCIDRs ?? [],
      runtimeVersion: api?.status?.nodeInfo?.containerRuntimeVersion,
    };
  };

  const fleet: Fleet = await ctx.fleets.get('node-inspector', names);
  const unavailable: Unavailable[] = [...fleet.unavailable];
  const readAt = Date.now();
  const bound = { timeoutMs: options.execTimeoutMs };
  const collected = (
    await progress.step(`reading ${fleet.members.length} node(s)`, () =>
      mapBounded(fleet.members, 20, async (member): Promise<Collected | undefined> => {
        try {
          const first = await fleet.exec(member.node, discoverArgv(), bound);
          const discovered = parseSections(first.stdout);
          const settings = discover(discovered);
          const inspectIds = member.node === pod?.spec?.nodeName ? podContainers.map((c) => c.id) : [];
          const plan = inspectPlan(settings, { full: options.full, inspectContainers: inspectIds });
          const second = await fleet.exec(member.node, inspectArgv(plan), bound);
          const inspected = parseSections(second.stdout);
          const identity = identityOf(member.node);
          const facts = nodeFacts({ identity, peers, discovered: settings, inspected });
          return { identity, discovered, inspected, facts };
        } catch (err) {
          if (signal.aborted) throw err;
          unavailable.push({
            node: member.node,
            profile: fleet.profile.name,
            reason: err instanceof Error ? err.message : String(err),
          });
          return undefined;
        }
      }),
    )
  ).filter((entry): entry is Collected => entry !== undefined);

  const servicesAfter = await client.listServices(undefined, {}, { signal });
  const services = expectedServicePorts(servicesBefore, servicesAfter, readAt, options.serviceGraceMs);
  const coverages = new Map(collected.map((entry) => [entry.identity.name, kubeProxyCoverage(entry.facts, services)]));
  const gaps = collected.filter((entry) => {
    const coverage = coverages.get(entry.identity.name);
    return (coverage?.missing.length ?? 0) + (coverage?.stale.length ?? 0) > 0 && entry.facts.kubeProxy.mode !== 'none';
  });
  if (gaps.length > 0) {
    // A Service created or deleted while the rules were read looks like a kube-proxy fault once; read again.
    await progress.step(`reading kube-proxy's rules again on ${gaps.length} node(s)`, async () => {
      await sleep(options.recheckDelayMs, signal);
      const readAgainAt = Date.now();
      const again = await Promise.all(
        gaps.map(async (entry) => {
          const output = await fleet.exec(entry.identity.name, rulesArgv(), bound).catch(() => undefined);
          if (!output) return undefined;
          const inspected = new Map([...entry.inspected, ...parseSections(output.stdout)]);
          return {
            entry,
            facts: nodeFacts({ identity: entry.identity, peers, discovered: discover(entry.discovered), inspected }),
          };
        }),
      );
      const latest = await client.listServices(undefined, {}, { signal });
      const servicesAgain = expectedServicePorts(servicesAfter, latest, readAgainAt, options.serviceGraceMs);
      for (const reread of again) {
        if (!reread) continue;
        const name = reread.entry.identity.name;
        const first = coverages.get(name);
        if (first) coverages.set(name, confirmed(first, kubeProxyCoverage(reread.facts, servicesAgain)));
      }
    });
  }

  const podNodeEntry = collected.find((entry) => entry.identity.name === pod?.spec?.nodeName);
  const podInspection: PodInspection | undefined =
    pod && options.pod
      ? {
          namespace: options.pod.namespace,
          name: options.pod.name,
          node: pod.spec?.nodeName ?? '',
          containers: podContainers.map((container) => ({
            ...container,
            inspect: podNodeEntry ? inspectJson(podNodeEntry.inspected, container.id) : undefined,
          })),
        }
      : undefined;

  return {
    result: nodeResult(
      collected.map((entry) => ({
        facts: entry.facts,
        sections: entry.inspected,
        coverage: coverages.get(entry.identity.name),
      })),
      services,
      unavailable,
      podInspection,
    ),
    raw: collected.map((entry) => ({
      node: entry.identity.name,
      discovered: entry.discovered,
      inspected: entry.inspected,
    })),
  };
}

/** What was read on the nodes → the result: each node's findings, the fleet view and the odd one out. Pure. */
export function nodeResult(
  nodes: readonly { facts: NodeFacts; sections: Sections; coverage?: Coverage }[],
  services: readonly ExpectedServicePort[],
  unavailable: readonly Unavailable[],
  pod?: PodInspection,
): DiagnosticResult<NodeData> {
  const facts = nodes.map((entry) => entry.facts);
  const usesKubeProxy = clusterUsesKubeProxy(facts);
  const findings: Finding[] = nodes.flatMap((entry) =>
    nodeFindings({ ...entry, services, clusterUsesKubeProxy: usesKubeProxy }),
  );
  const rows = fleetRows(facts);
  findings.push(...oddOneOutFindings(facts, rows));
  return {
    command: 'node',
    data: { nodes: facts, fleet: rows, servicePorts: services.length, ...(pod ? { pod } : {}) },
    findings,
    unavailable,
  };
}

function inspectJson(sections: Sections, id: string): unknown {
  const section = sections.get(`inspect ${id}`);
  if (!section || section.status !== 0) return undefined;
  try {
    return JSON.parse(section.output) as unknown;
  } catch {
    return section.output;
  }
}

/** The engine as doctor and the command call it: the result only. */
export async function runNode(ctx: DiagnosticContext, options: NodeOptions): Promise<DiagnosticResult<NodeData>> {
  return (await inspectNodes(ctx, options)).result;
}
