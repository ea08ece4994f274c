/**
 * The dns engine: cluster DNS checked hop by hop on every chosen node.
 *
 *   a pod-probe pod per node (dnsPolicy ClusterFirst, exactly like a user's pod; shared with doctor's other engines)
 *   → its resolv.conf (what kubelet gives pods: the nameserver, the cluster domain) + the cluster side from the API
 *   → ONE probe exec per node, nodes in parallel: resolv.conf, C library lookups, dig to every resolver in the path
 *   → findings per node, symptom → cause across nodes, cluster findings
 *   → optionally: --propagation (a new Service, time until it resolves per node), --capture (what was really sent)
 *
 * Typed options and one context in, a DiagnosticResult out; no flags, no process.*.
 */
import { randomBytes } from 'node:crypto';
import { environmentError } from '../lib/errors.js';
import type { DiagnosticContext } from '../kube/context.js';
import { fleetRequirements, type Fleet, type FleetMember } from '../kube/fleet.js';
import type { AccessRequirement } from '../kube/preflight.js';
import type { DiagnosticResult, Finding, Unavailable } from '../findings/model.js';
import { causeFindings, clusterFindings, hopLatencies, nodeFindings, type HopLatency } from './checks.js';
import { clusterFactsFrom, DNS_NAMESPACE, fetchDnsObjects, upstreamAddresses } from './discover.js';
import type { ClusterFacts, NodeFacts, Resolver } from './facts.js';
import type { DnsOptions } from './options.js';
import { parseResolvConf } from './parse.js';
import {
  assembleNodeFacts,
  buildProbePlan,
  probeScript,
  uncachedName,
  type PlanInput,
  type ProbePlan,
} from './probe.js';
import { captureName, runCapture, type CaptureSummary } from './capture.js';
import { runPropagation, type PropagationResult } from './propagation.js';

export const PROFILE = 'pod-probe';
/** One probe: lookups are killed after 12 s, dig waits 2 s per try, repeated lookups may each wait 5 s for a retry. */
const PROBE_TIMEOUT_MS = 90_000;
const RESOLV_TIMEOUT_MS = 15_000;

export interface DnsDiscovery {
  readonly domain: string;
  readonly kubernetesIP: string;
  readonly kubeDnsIP: string;
  readonly nodeLocal: { readonly address: string; readonly source: string } | null;
  readonly corednsPods: ClusterFacts['coredns']['pods'];
  readonly forward: readonly string[];
  /** Forward targets the probe can ask directly (plain DNS on port 53). */
  readonly upstream: readonly string[];
}

export interface DnsNodeReport {
  readonly node: string;
  readonly pod: string;
  readonly nameserver: string | undefined;
  readonly findings: readonly Finding[];
}

export interface DnsData {
  readonly discovery: DnsDiscovery;
  readonly nodes: readonly DnsNodeReport[];
  /** Latency per node, resolver and protocol (median and p95 of dig's query times). */
  readonly resolvers: readonly (HopLatency & { readonly node: string })[];
  /** The cluster side (subject `cluster`), causes that hold for the whole cluster included. */
  readonly cluster: readonly Finding[];
  readonly propagation: PropagationResult['data'] | null;
  readonly capture: readonly CaptureSummary[] | null;
}

/**
 * What a dns run needs: its probe pods and (with --propagation) a Service in `namespace`; reads of the DNS objects
 * in kube-system; nodes. Asking what CoreDNS's service account may do (SubjectAccessReview) is optional: without it
 * dns.cluster.rbac is skipped.
 */
export function dnsRequirements(namespace: string): AccessRequirement[] {
  const system = (verb: string, resource: string, group = '', subresource?: string): AccessRequirement => ({
    verb,
    resource,
    group,
    namespace: DNS_NAMESPACE,
    ...(subresource ? { subresource } : {}),
  });
  return [
    ...fleetRequirements(namespace),
    ...['create', 'delete'].map((verb) => ({ verb, resource: 'services', namespace })),
    { verb: 'get', resource: 'services', namespace: 'default' },
    { verb: 'list', resource: 'nodes' },
    system('list', 'services'),
    system('list', 'pods'),
    system('get', 'pods', '', 'log'),
    system('get', 'configmaps'),
    system('list', 'endpointslices', 'discovery.k8s.io'),
    system('list', 'daemonsets', 'apps'),
    system('list', 'deployments', 'apps'),
  ];
}

/** The resolvers in the path, in order. Pure. */
export function pathResolvers(cluster: ClusterFacts): Resolver[] {
  return [
    ...(cluster.nodeLocal
      ? [{ role: 'nodelocal' as const, address: cluster.nodeLocal.address, label: 'node-local cache' }]
      : []),
    { role: 'clusterip', address: cluster.kubeDns.ip, label: cluster.kubeDns.name },
    ...cluster.coredns.pods
      .filter((pod) => pod.ip !== '')
      .map((pod) => ({ role: 'coredns-pod' as const, address: pod.ip, label: pod.name })),
    ...upstreamAddresses(cluster.corefile?.forward ?? []).map((address) => ({
      role: 'upstream' as const,
      address,
      label: 'upstream',
    })),
  ];
}

/** A pod's own DNS name: `10-233-64-9.<ns>.pod.<domain>`. Pure. */
export const podDnsName = (podIP: string, namespace: string, domain: string): string =>
  `${podIP.replace(/[.:]/g, '-')}.${namespace}.pod.${domain}`;

/** What the probe on one member checks. Pure. */
export function planFor(
  member: Pick<FleetMember, 'podIP' | 'namespace'>,
  cluster: ClusterFacts,
  options: DnsOptions,
  uncachedLabel: string,
): ProbePlan {
  const external = options.externalNames.map((name) => ({
    name,
    kind: 'external' as const,
    expected: [],
    isDefault: options.externalIsDefault,
  }));
  const input: PlanInput = {
    resolvers: pathResolvers(cluster),
    clusterName: `kubernetes.default.svc.${cluster.domain}`,
    clusterExpected: [cluster.kubernetesIP],
    lookups: [
      { name: 'kubernetes.default', kind: 'cluster', expected: [cluster.kubernetesIP], isDefault: false },
      {
        name: `${cluster.kubeDns.name}.${cluster.kubeDns.namespace}`,
        kind: 'cluster',
        expected: [cluster.kubeDns.ip],
        isDefault: false,
      },
      {
        name: podDnsName(member.podIP, member.namespace, cluster.domain),
        kind: 'pod',
        expected: [member.podIP],
        isDefault: false,
      },
      ...options.names.map((name) => ({ name, kind: 'name' as const, expected: [], isDefault: false })),
      ...external,
    ],
    externalNames: options.externalNames,
    uncachedNames: options.externalNames.flatMap((name) => uncachedName(name, uncachedLabel) ?? []),
    queries: options.queries,
    repeatName: 'kubernetes.default',
    repeatExpected: [cluster.kubernetesIP],
    largeName: options.largeName,
  };
  return buildProbePlan(input);
}

export async function runDns(ctx: DiagnosticContext, options: DnsOptions): Promise<DiagnosticResult<DnsData>> {
  const { client, progress, signal } = ctx;
  const objects = fetchDnsObjects(client, signal);
  // Caught here and awaited below, so a failure while the fleet starts is not an unhandled rejection.
  objects.catch(() => undefined);
  const fleet = await ctx.fleets.get(
    PROFILE,
    ctx.nodes.map((node) => node.name),
  );
  const unavailable: Unavailable[] = [...fleet.unavailable];
  const first = fleet.members[0];
  if (!first)
    throw environmentError(
      `no ${PROFILE} pod could run on any of the ${ctx.nodes.length} chosen node(s): ${fleet.unavailable.map((u) => `${u.node}: ${u.reason}`).join('; ')}`,
      'fix the reason above (image, admission, taints) or choose other nodes with --nodes',
    );
  const resolv = await fleet.exec(first.node, ['cat', '/etc/resolv.conf'], { timeoutMs: RESOLV_TIMEOUT_MS });
  const cluster = clusterFactsFrom(await objects, parseResolvConf(resolv.stdout), first.namespace);
  progress.debug(
    `dns: domain ${cluster.domain}, kube-dns ${cluster.kubeDns.ip}, node cache ${cluster.nodeLocal?.address ?? 'none'}, ${cluster.coredns.pods.length} CoreDNS pods`,
  );

  const nodes = await probeNodes(ctx, fleet, cluster, options, unavailable);
  const perNode = nodes.map((facts) => nodeFindings(facts, { cluster, namespace: facts.namespace }));
  const causes = causeFindings(nodes, cluster);
  const clusterSide = [...clusterFindings(cluster, nodes), ...causes.filter((f) => f.subject === 'cluster')];
  // One after the other: the capture must see one lookup's queries, not the propagation poll's.
  const capture = options.capture ? await runCapture(ctx, fleet, captureName(options)) : null;
  const propagation = options.propagation
    ? await runPropagation(ctx, fleet, cluster, options.propagationTimeoutMs)
    : null;
  const nodeReports: DnsNodeReport[] = nodes.map((facts, index) => ({
    node: facts.node,
    pod: facts.pod,
    nameserver: facts.resolvConf?.nameservers[0],
    findings: [
      ...(perNode[index] ?? []),
      ...causes.filter((f) => f.subject === `node/${facts.node}`),
      ...(propagation?.findings.filter((f) => f.subject === `node/${facts.node}`) ?? []),
      ...(capture?.flatMap((entry) => entry.findings).filter((f) => f.subject === `node/${facts.node}`) ?? []),
    ],
  }));
  return {
    command: 'dns',
    data: {
      discovery: {
        domain: cluster.domain,
        kubernetesIP: cluster.kubernetesIP,
        kubeDnsIP: cluster.kubeDns.ip,
        nodeLocal: cluster.nodeLocal ? { address: cluster.nodeLocal.address, source: cluster.nodeLocal.source } : null,
        corednsPods: cluster.coredns.pods,
        forward: cluster.corefile?.forward ?? [],
        upstream: upstreamAddresses(cluster.corefile?.forward ?? []),
      },
      nodes: nodeReports,
      resolvers: nodes.flatMap((facts) => hopLatencies(facts.hops).map((row) => ({ node: facts.node, ...row }))),
      cluster: clusterSide,
      propagation: propagation?.data ?? null,
      capture: capture?.map((entry) => entry.summary) ?? null,
    },
    findings: [...clusterSide, ...nodeReports.flatMap((report) => report.findings)],
    unavailable,
  };
}

async function probeNodes(
  ctx: DiagnosticContext,
  fleet: Fleet,
  cluster: ClusterFacts,
  options: DnsOptions,
  unavailable: Unavailable[],
): Promise<NodeFacts[]> {
  const plans = new Map(
    fleet.members.map((member) => [
      member.node,
      planFor(member, cluster, options, `netdiag-${randomBytes(6).toString('hex')}`),
    ]),
  );
  const plan = (member: FleetMember) => plans.get(member.node) as ProbePlan;
  const outcomes = await ctx.progress.step(`checking DNS on ${fleet.members.length} node(s)`, () =>
    fleet.execAll(
      (member) => ['sh', '-c', probeScript(plan(member))],
      (output, member) =>
        assembleNodeFacts(
          plan(member),
          { node: member.node, pod: member.pod, podIP: member.podIP, namespace: member.namespace },
          output.stdout,
        ),
      { timeoutMs: PROBE_TIMEOUT_MS },
    ),
  );
  const nodes: NodeFacts[] = [];
  for (const outcome of outcomes) {
    if (outcome.ok) nodes.push(outcome.value);
    else unavailable.push({ node: outcome.node, profile: PROFILE, reason: outcome.reason });
  }
  return nodes;
}
