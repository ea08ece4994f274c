/**
 * `check`'s engine: the test Service and two fleets (pod-probe, echo servers) on the chosen nodes, then the probe
 * plan run as one batch per node and phase (src/check/batch.ts): phase 1 every L3/L4/L7 probe and the pod
 * interface's MTU; phase 2 the DF pings (and one retry of failed Service probes, which can race kube-proxy
 * programming the brand-new Service); then MTU search rounds for the pairs whose full-size DF ping failed.
 * Everything it creates is tracked by the run session, which the command cleans up.
 */
import type { DiagnosticResult, Finding, Unavailable } from '../findings/model.js';
import type { V1EndpointSlice } from '../kube/client.js';
import type { DiagnosticContext } from '../kube/context.js';
import { fleetRequirements, type Fleet } from '../kube/fleet.js';
import type { AccessRequirement } from '../kube/preflight.js';
import { sleep } from '../lib/signals.js';
import { batchArgv, batchBoundSeconds, parseBatchOutput, type BatchCommand, type BatchResult } from './batch.js';
import {
  endpointsFinding,
  mtuFinding,
  mtuSkipped,
  probeFinding,
  type EndpointsWait,
  type MtuPairResult,
  type ProbeRecord,
} from './checks.js';
import { ECHO_PROFILE, echoNodePort, testServiceManifest } from './echo.js';
import { CHECK_IDS, type ProbeCheckId } from './ids.js';
import type { CheckOptions } from './options.js';
import { probeOutcome } from './outcome.js';
import { dfSizeForMtu, nextMtuProbes, recordMtuProbe, type MtuSearch } from './ping.js';
import {
  coverage,
  effectiveSample,
  mtuProbe,
  planMtuProbes,
  planProbes,
  type Coverage,
  type EchoServer,
  type Layer,
  type Probe,
  type TestService,
} from './probes.js';
import type { FailureReason } from './reasons.js';

/** One probe as the JSON output lists it (the findings carry the same with evidence). */
export interface ProbeSummary {
  readonly id: ProbeCheckId;
  readonly layer: Layer;
  readonly from: string;
  readonly to?: string;
  readonly target: string;
  readonly ok: boolean;
  readonly reason?: FailureReason;
  readonly latencyMs?: number;
  readonly elapsedMs?: number;
  readonly httpStatus?: number;
  /** 2 when a failed Service probe was run again (the answer is the second run's). */
  readonly attempts: number;
}

export interface MtuSummary {
  readonly from: string;
  readonly to: string;
  readonly fromMtu: number;
  readonly toMtu: number;
  readonly largestPassing: number;
  readonly searched: readonly number[];
}

export interface CheckData {
  readonly service: TestService & { readonly namespace: string; readonly name: string };
  readonly nodes: readonly string[];
  readonly coverage: Coverage;
  /** MTU of each node's pod interface (eth0 of the probe pod). */
  readonly podMtu: Readonly<Record<string, number>>;
  readonly probes: readonly ProbeSummary[];
  readonly mtu: readonly MtuSummary[];
}

/** Service-path checks retried once in phase 2 when they failed in phase 1. */
const RETRIED: readonly ProbeCheckId[] = [
  CHECK_IDS.clusterIP,
  CHECK_IDS.nodePort,
  CHECK_IDS.serviceName,
  CHECK_IDS.http,
  CHECK_IDS.kubernetesService,
];
/** DF sizes tried at once per pair in each search round. */
const MTU_SEARCH_WIDTH = 8;
/** The smallest payload known to pass: the plain ping of phase 1 (56 bytes) did. */
const PLAIN_PING_SIZE = 56;
/** How long the echo pods may take to appear in the Service's endpoints. */
const ENDPOINTS_TIMEOUT_MS = 20_000;
const POD_MTU_COMMAND: BatchCommand = { argv: ['cat', '/sys/class/net/eth0/mtu'], timeoutSeconds: 2 };

/**
 * What check needs allowed in `namespace`: its two fleets, the test Service and its EndpointSlices. Reading
 * `default/kubernetes` is optional (its check is skipped without it).
 */
export function checkRequirements(namespace: string): AccessRequirement[] {
  return [
    ...fleetRequirements(namespace),
    ...['create', 'delete'].map((verb) => ({ verb, resource: 'services', namespace })),
    { verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', namespace },
  ];
}

export async function runCheck(ctx: DiagnosticContext, options: CheckOptions): Promise<DiagnosticResult<CheckData>> {
  const names = ctx.nodes.map((node) => node.name);
  const sample = effectiveSample(options.sample, names.length);
  const { service, kubernetesClusterIP, kubernetesSkip } = await createTestService(ctx);
  const [probeFleet, echoFleet] = await Promise.all([
    ctx.fleets.get('pod-probe', names),
    ctx.fleets.get(ECHO_PROFILE, names),
  ]);
  const unavailable: Unavailable[] = [...probeFleet.unavailable, ...echoFleet.unavailable];
  const echo: EchoServer[] = echoFleet.members.map((member) => ({ node: member.node, podIP: member.podIP }));
  const endpoints = await waitForEndpoints(ctx, service.name, echo.length);

  const sources = probeFleet.members.map((member) => member.node);
  const plan = planProbes({
    sources,
    nodes: ctx.nodes.map((node) => ({ name: node.name, internalIP: node.internalIP })),
    echo,
    service,
    serviceReady: endpoints.ready > 0,
    ...(kubernetesClusterIP === undefined ? {} : { kubernetesClusterIP }),
    outside: options.outside,
    ...(sample === undefined ? {} : { sample }),
  });
  const runner = new ProbeRunner(ctx, probeFleet, options.parallel, unavailable);

  const phase1 = await ctx.progress.step(`probing from ${sources.length} node(s): ${plan.length} probes`, () =>
    runner.run(plan, POD_MTU_COMMAND),
  );
  const podMtu = new Map<string, number>();
  for (const [node, extra] of phase1.extras) {
    const mtu = Number(extra.stdout.trim());
    if (extra.exitCode === 0 && Number.isInteger(mtu) && mtu > 0) podMtu.set(node, mtu);
  }
  const records = new Map(phase1.records.map((record) => [record.probe, record]));
  const attempts = new Map<Probe, number>();

  // Phase 2: DF pings where the plain ping passed, and the retries.
  const plainPassed = (from: string, to: string) =>
    phase1.records.some(
      (r) => r.probe.id === CHECK_IDS.podToPod && r.probe.from === from && r.probe.to === to && r.outcome.ok,
    );
  const mtuPlan = options.skipMtu
    ? []
    : planMtuProbes({ sources, nodes: names, echo, podMtu, ...(sample === undefined ? {} : { sample }) });
  const dfProbes = mtuPlan.filter((probe) => plainPassed(probe.from, probe.to ?? ''));
  const skipped = mtuPlan.filter((probe) => !dfProbes.includes(probe));
  const retries = phase1.records.filter((r) => !r.outcome.ok && RETRIED.includes(r.probe.id)).map((r) => r.probe);
  const phase2 =
    dfProbes.length + retries.length === 0
      ? { records: [] }
      : await ctx.progress.step(
          `DF pings at the pod MTU for ${dfProbes.length} pair(s)${retries.length > 0 ? `, ${retries.length} failed Service probe(s) again` : ''}`,
          () => runner.run([...dfProbes, ...retries]),
        );
  for (const record of phase2.records) {
    if (retries.includes(record.probe)) {
      records.set(record.probe, record);
      attempts.set(record.probe, 2);
    }
  }
  const dfRecords = phase2.records.filter((record) => dfProbes.includes(record.probe));
  const mtuResults = await searchMtu(ctx, runner, dfRecords, podMtu, echo);

  const findings: Finding[] = [
    ...[...records.values()].map(probeFinding),
    ...mtuResults.map(mtuFinding),
    ...skipped.map((probe) =>
      mtuSkipped(probe.from, probe.to ?? '', `the plain ping ${probe.from} → ${probe.to ?? ''} fails`),
    ),
    ...(kubernetesSkip === undefined ? [] : [kubernetesSkip]),
    ...(echo.length === 0 ? [] : [endpointsFinding(endpoints)]),
  ];
  return {
    command: 'check',
    data: {
      service: { ...service, namespace: ctx.namespace },
      nodes: names,
      coverage: coverage(names, sample),
      podMtu: Object.fromEntries(podMtu),
      probes: [...records.values()].map((record) => summarize(record, attempts.get(record.probe) ?? 1)),
      mtu: mtuResults.map(({ from, to, fromMtu, toMtu, largestPassing, searched }) => ({
        from,
        to,
        fromMtu,
        toMtu,
        largestPassing,
        searched,
      })),
    },
    findings,
    unavailable,
  };
}

function summarize(record: ProbeRecord, attempts: number): ProbeSummary {
  const { probe, outcome } = record;
  return {
    id: probe.id,
    layer: probe.layer,
    from: probe.from,
    ...(probe.to === undefined ? {} : { to: probe.to }),
    target: probe.target,
    ok: outcome.ok,
    ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    ...(outcome.latencyMs === undefined ? {} : { latencyMs: outcome.latencyMs }),
    ...(outcome.elapsedMs === undefined ? {} : { elapsedMs: outcome.elapsedMs }),
    ...(outcome.httpStatus === undefined ? {} : { httpStatus: outcome.httpStatus }),
    attempts,
  };
}

/**
 * Creates the test Service (tracked first, so an interruption cannot leave it) and reads the `kubernetes` Service's
 * ClusterIP; a user who may not read `default/kubernetes` gets that check skipped, not a failed run.
 */
async function createTestService(ctx: DiagnosticContext): Promise<{
  service: TestService & { name: string };
  kubernetesClusterIP?: string;
  kubernetesSkip?: Finding;
}> {
  return ctx.progress.step('creating the test Service', async () => {
    const manifest = testServiceManifest(ctx.namespace, ctx.session.id, ctx.session.labels);
    const name = manifest.metadata?.name ?? '';
    ctx.session.trackService(ctx.namespace, name);
    const [created, kubernetes] = await Promise.all([
      ctx.client.createService(ctx.namespace, manifest, { signal: ctx.signal }),
      ctx.client.readService('default', 'kubernetes', { signal: ctx.signal }).then(
        (found) => ({ ok: true as const, clusterIP: found.spec?.clusterIP }),
        (err: unknown) => ({ ok: false as const, reason: err instanceof Error ? err.message : String(err) }),
      ),
    ]);
    const clusterIP = created.spec?.clusterIP;
    const nodePort = echoNodePort(created);
    if (clusterIP === undefined || nodePort === undefined) {
      throw new Error(`the API server gave Service ${ctx.namespace}/${name} no ClusterIP or NodePort`);
    }
    const service = { name, clusterIP, echoNodePort: nodePort, dnsName: `${name}.${ctx.namespace}.svc` };
    if (kubernetes.ok && kubernetes.clusterIP) return { service, kubernetesClusterIP: kubernetes.clusterIP };
    const why = kubernetes.ok ? 'it has no ClusterIP' : kubernetes.reason;
    return {
      service,
      kubernetesSkip: {
        id: CHECK_IDS.kubernetesService,
        subject: 'cluster',
        status: 'skip',
        summary: `the kubernetes Service was not checked: cannot read default/kubernetes (${why})`,
        evidence: [],
      },
    };
  });
}

/** Ready echo endpoints of the Service, from its EndpointSlices. */
const readyEndpoints = (slices: readonly V1EndpointSlice[]): number =>
  slices.reduce(
    (sum, slice) => sum + (slice.endpoints ?? []).filter((endpoint) => endpoint.conditions?.ready !== false).length,
    0,
  );

/**
 * Waits (bounded) until every echo pod is a ready endpoint of the test Service, so the Service probes do not run
 * before the control plane knows its backends. Not reaching it is not an error of the run: the finding says so.
 */
async function waitForEndpoints(ctx: DiagnosticContext, service: string, expected: number): Promise<EndpointsWait> {
  const started = Date.now();
  const result = (ready: number) => ({
    service,
    namespace: ctx.namespace,
    ready,
    expected,
    waitedMs: Date.now() - started,
  });
  if (expected === 0) return result(0);
  return ctx.progress.step(`waiting for ${expected} endpoint(s) of Service ${service}`, async (detail) => {
    const deadline = started + ENDPOINTS_TIMEOUT_MS;
    for (;;) {
      const slices = await ctx.client.listEndpointSlices(
        ctx.namespace,
        { labelSelector: `kubernetes.io/service-name=${service}` },
        { signal: ctx.signal },
      );
      const ready = readyEndpoints(slices);
      detail(`${ready}/${expected} ready`);
      if (ready >= expected || Date.now() > deadline) return result(ready);
      await sleep(500, ctx.signal);
    }
  });
}

/** Runs probes as one batch per source node and turns the answers into records. */
class ProbeRunner {
  constructor(
    private readonly ctx: DiagnosticContext,
    private readonly fleet: Fleet,
    private readonly parallel: number,
    /** Where nodes whose batch could not run are added (once). */
    private readonly unavailable: Unavailable[],
  ) {}

  /**
   * `extra` runs on every node ahead of its probes (the pod MTU read); its results come back per node. A node whose
   * exec fails is reported unavailable and its probes dropped.
   */
  async run(
    probes: readonly Probe[],
    extra?: BatchCommand,
  ): Promise<{ records: ProbeRecord[]; extras: Map<string, BatchResult> }> {
    const byNode = new Map<string, Probe[]>();
    for (const probe of probes) byNode.set(probe.from, [...(byNode.get(probe.from) ?? []), probe]);
    const commandsOf = (node: string): BatchCommand[] => [...(extra ? [extra] : []), ...(byNode.get(node) ?? [])];
    const members = this.fleet.members.filter((member) => commandsOf(member.node).length > 0);
    const timeoutSeconds = Math.max(
      0,
      ...members.map((member) => batchBoundSeconds(commandsOf(member.node), this.parallel)),
    );
    const outcomes = await this.fleet.restrictedTo(members.map((member) => member.node)).execAll(
      (member) => batchArgv(commandsOf(member.node), this.parallel),
      (output, member) => {
        if (output.exitCode !== 0) {
          throw new Error(`the probe batch exited ${output.exitCode}: ${output.stderr.trim().slice(0, 300)}`);
        }
        return parseBatchOutput(output.stdout, commandsOf(member.node).length);
      },
      { timeoutMs: timeoutSeconds * 1000 },
    );
    const records: ProbeRecord[] = [];
    const extras = new Map<string, BatchResult>();
    for (const outcome of outcomes) {
      if (!outcome.ok) {
        if (!this.unavailable.some((entry) => entry.node === outcome.node && entry.profile === this.fleet.profile.name))
          this.unavailable.push({ node: outcome.node, profile: this.fleet.profile.name, reason: outcome.reason });
        continue;
      }
      const results = [...outcome.value];
      if (extra) extras.set(outcome.node, results.shift() as BatchResult);
      const member = this.fleet.member(outcome.node);
      const pod = member ? `${member.namespace}/${member.pod}` : outcome.node;
      (byNode.get(outcome.node) ?? []).forEach((probe, index) => {
        const result = results[index] as BatchResult;
        records.push({
          probe,
          outcome: probeOutcome(probe, result),
          pod,
          exitCode: result.exitCode,
          output: `${result.stdout}${result.stderr}`,
        });
      });
    }
    this.ctx.progress.debug(`${records.length} probe(s) answered`);
    return { records, extras };
  }
}

/**
 * For every pair whose full-size DF ping failed, rounds of {@link MTU_SEARCH_WIDTH} DF sizes at once until the
 * largest passing size is known.
 */
async function searchMtu(
  ctx: DiagnosticContext,
  runner: ProbeRunner,
  fullSize: readonly ProbeRecord[],
  podMtu: ReadonlyMap<string, number>,
  echo: readonly EchoServer[],
): Promise<MtuPairResult[]> {
  const pairs = fullSize.map((record) => {
    const from = record.probe.from;
    const to = record.probe.to ?? '';
    const fromMtu = podMtu.get(from) ?? 0;
    const toMtu = podMtu.get(to) ?? fromMtu;
    const size = dfSizeForMtu(Math.min(fromMtu, toMtu));
    const search: MtuSearch = record.outcome.ok
      ? { largestPassing: size, smallestFailing: size + 1 }
      : { largestPassing: PLAIN_PING_SIZE, smallestFailing: size };
    return { from, to, fromMtu, toMtu, fullSize: record, search, searched: [] as number[] };
  });
  const searching = pairs.filter((pair) => !pair.fullSize.outcome.ok);
  if (searching.length > 0) {
    await ctx.progress.step(`searching the largest DF size for ${searching.length} pair(s)`, async (detail) => {
      const podIP = new Map(echo.map((server) => [server.node, server.podIP]));
      for (let round = 1; ; round += 1) {
        const asked = searching.flatMap((pair) =>
          nextMtuProbes(pair.search, MTU_SEARCH_WIDTH).map((size) => ({
            pair,
            size,
            probe: mtuProbe(pair.from, pair.to, podIP.get(pair.to) ?? '', size),
          })),
        );
        if (asked.length === 0) return;
        detail(`round ${round}: ${asked.length} DF pings`);
        const { records } = await runner.run(asked.map((entry) => entry.probe));
        const answered = new Map(records.map((record) => [record.probe, record.outcome.ok]));
        for (const { pair, size, probe } of asked) {
          const passed = answered.get(probe);
          // A node whose batch failed gives no answer: stop searching its pairs rather than loop.
          if (passed === undefined) pair.search = { ...pair.search, smallestFailing: pair.search.largestPassing + 1 };
          else pair.search = recordMtuProbe(pair.search, size, passed);
          pair.searched.push(size);
        }
      }
    });
  }
  return pairs.map(({ from, to, fromMtu, toMtu, fullSize: record, search, searched }) => ({
    from,
    to,
    fromMtu,
    toMtu,
    fullSize: record,
    largestPassing: search.largestPassing,
    searched: [...searched].sort((a, b) => a - b),
  }));
}
