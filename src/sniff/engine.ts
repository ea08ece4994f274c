/**
 * The sniff engine: typed options in, a capture and a summary out. It never sees a flag string.
 *
 *   resolve targets (exit 2 on anything unknown) → preflight (RBAC + PodSecurity) → choose the mode → open the output
 *   → set up one Sniffer per target → stream: exec stdout → stats tap → (one target) record aligner → output
 *                                                               (several) pcapng merger → size limit → output
 *   → stop on duration / count / size / Ctrl-C / output gone → flush → clean up.
 */
import { environmentError, NetdiagError, usageError } from '../lib/errors.js';
import { formatDuration } from '../lib/duration.js';
import { PhaseClock } from '../lib/phases.js';
import { InterruptedError } from '../lib/signals.js';
import type { Progress } from '../lib/progress.js';
import type { KubeClient } from '../kube/client.js';
import { AdmissionRejection } from '../kube/pods.js';
import {
  execRequirements,
  findMissingPermissions,
  PodSecurityLevels,
  type AccessRequirement,
  type PodSecurityLevel,
} from '../kube/preflight.js';
import type { DiagnosticContext } from '../kube/context.js';
import { fleetRequirements, Fleets, type Fleet } from '../kube/fleet.js';
import { PcapngMerger, type MergedInput } from '../pcap/merge.js';
import { k8sInterface } from '../pcap/pcapng.js';
import {
  CaptureStatsTap,
  tcpdumpStatsToInterfaceStatistics,
  type CaptureStats,
  type TcpdumpStats,
} from '../pcap/stats.js';
import type { RemoteCaptureResult, Sniffer } from './capture.js';
import { selectMode, type CaptureMode, type ModeChoice, type ModeFacts, type RequestedMode } from './mode.js';
import { EphemeralCapture, inHostNetwork, NodeCapture, UploadCapture, type SnifferContext } from './modes.js';
import { SNIFF_NODE_PROFILE } from './node-profile.js';
import { PreflightAnswers } from './preflight.js';
import { describeExclusion, RUNTIME_STREAM_MARKER, type SelfStream } from './self.js';
import { checkInterface } from './interfaces.js';
import { collectNameRecords } from './names.js';
import type { CaptureOutput } from './outputs.js';
import { ChunkLimit, PcapRecordAligner } from './pipeline.js';
import {
  resolveRequirements,
  resolveTargets,
  targetLabel,
  type CaptureTarget,
  type PodCaptureTarget,
} from './resolve.js';
import type { TargetQuery } from './target.js';
import { DEFAULT_MAX_CAPTURE_SECONDS, isUsageFailure, tcpdumpErrorLines, type TcpdumpSpec } from './tcpdump.js';

export const VERSION_APPL = 'kubectl-netdiag';

/** Validated options of one sniff run. */
export interface SniffOptions {
  readonly target: TargetQuery;
  readonly namespace: string;
  readonly allNamespaces: boolean;
  readonly container: string | undefined;
  readonly tcpdump: TcpdumpSpec;
  readonly mode: RequestedMode;
  /** Node-mode helper pod image. */
  readonly helperImage: string;
  /** Ephemeral capture container image. */
  readonly tcpdumpImage: string;
  /** Where node-mode helper pods go; undefined = the target's namespace when it allows privileged pods, else "default". */
  readonly helperNamespace: string | undefined;
  readonly durationMs: number | undefined;
  readonly maxSizeBytes: number | undefined;
  readonly podRunningTimeoutMs: number;
  /** Name resolution records in pcapng output. */
  readonly resolveNames: boolean;
  /** Keep the capture's own stream in host-network captures (src/sniff/self.ts); left out by default. */
  readonly includeSelf: boolean;
  /** Where upload mode notes the tcpdumps it keeps in containers, for `cleanup` (src/sniff/kept-uploads.ts). */
  readonly keptUploadsFile: string;
}

/** The run the command owns and hands to the engine: cluster, session (deleted by the command), cancellation. */
export type SniffRun = Pick<DiagnosticContext, 'client' | 'session' | 'signal'>;

export interface SniffSinks {
  /** Opens the output; called after preflight, before anything is created in the cluster. */
  readonly openOutput: () => Promise<CaptureOutput>;
  readonly progress: Progress;
  /** Live statistics, about once a second while capturing. */
  readonly onStats?: (stats: readonly CaptureStats[]) => void;
}

export type StopReason = 'completed' | 'duration' | 'max-size' | 'interrupted' | 'output-gone' | 'failed';

export interface TargetSummary {
  readonly label: string;
  readonly where: string;
  readonly packets: number;
  readonly bytes: number;
  readonly tcpdump: TcpdumpStats;
  readonly exitCode: number | undefined;
  readonly error: string | undefined;
}

export interface SniffResult {
  readonly mode: CaptureMode;
  readonly reason: string;
  readonly format: 'pcap' | 'pcapng';
  readonly output: string;
  readonly targets: readonly TargetSummary[];
  readonly stopReason: StopReason;
  readonly stopDetail: string | undefined;
  readonly bytesWritten: number;
  /** False when nothing was captured and the output was left as it was (a path this run created is removed). */
  readonly written: boolean;
  /** From the first "listening" of a remote tcpdump to the end of the last one; 0 when none started. */
  readonly captureMs: number;
  /** A mid-capture failure (target deleted, connection lost): the file is valid and complete up to it; exit 3. */
  readonly failure: NetdiagError | undefined;
}

const DEFAULT_HELPER_NAMESPACE = 'default';
/** Margin between --duration (stopped by the client) and the remote hard bound (stops it if the client cannot). */
const REMOTE_BOUND_MARGIN_SECONDS = 30;

const req = (verb: string, resource: string, namespace: string, subresource?: string): AccessRequirement => ({
  verb,
  resource,
  namespace,
  subresource,
});

/** What capturing pods of `namespace` may need, in one mode or another. Pure. */
export const targetRequirements = (namespace: string): AccessRequirement[] => [
  req('get', 'pods', namespace),
  req('patch', 'pods', namespace, 'ephemeralcontainers'),
  ...execRequirements(namespace),
];

/**
 * Asks preflight's likely questions while the targets resolve: a pod target is in `namespace` (-n), and its helper
 * pods would go there or to the default helper namespace. Answers nobody needs cost a request each, nothing else.
 */
function askAhead(answers: PreflightAnswers, namespace: string, helperNamespace: string | undefined): void {
  const helpers = helperNamespace !== undefined ? [helperNamespace] : [namespace, DEFAULT_HELPER_NAMESPACE];
  for (const ns of [namespace, ...helpers]) void answers.podSecurity(ns).catch(() => undefined);
  const questions = [...targetRequirements(namespace), ...helpers.flatMap(fleetRequirements)];
  void findMissingPermissions(answers.client, questions).catch(() => undefined);
  void answers.client.serverVersion().catch(() => undefined);
}

/**
 * Everything sniff may ask of RBAC with targets and helpers in `namespace`: resolving, capturing in place, node-mode
 * helpers (the fleet's needs), and preflight's own reads. docs/rbac.yaml's test derives from this.
 */
export function sniffRequirements(namespace: string): AccessRequirement[] {
  return [
    ...resolveRequirements(namespace),
    ...targetRequirements(namespace),
    ...fleetRequirements(namespace),
    { verb: 'get', resource: 'namespaces' },
    { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' },
  ];
}

/** Reads what mode selection needs: RBAC answers, PodSecurity levels, server version, container security. */
export async function gatherModeFacts(
  answers: PreflightAnswers,
  targets: readonly CaptureTarget[],
  helperNamespace: string,
  signal: AbortSignal,
): Promise<ModeFacts> {
  const { client } = answers;
  const podTargets = targets.filter((t): t is PodCaptureTarget => t.kind === 'pod');
  const namespaces = [...new Set(podTargets.map((t) => t.namespace))];
  const targetReqs = namespaces.flatMap(targetRequirements);
  // The node-mode fleet's own needs: what builds the helper pods is what preflight asks about.
  const helperReqs = fleetRequirements(helperNamespace);
  const call = { signal };
  const [missing, version, targetLevels, helperLevel] = await Promise.all([
    findMissingPermissions(client, [...targetReqs, ...helperReqs], call),
    client.serverVersion(call).catch(() => undefined),
    Promise.all(namespaces.map((ns) => answers.podSecurity(ns))),
    answers.podSecurity(helperNamespace),
  ]);
  const denied = (verb: string, resource: string, ns: string | undefined, sub?: string) =>
    missing.some(
      (m) =>
        m.verb === verb && m.resource === resource && m.subresource === sub && (ns === undefined || m.namespace === ns),
    );
  const inTargets = (verb: string, sub?: string) => !namespaces.some((ns) => denied(verb, 'pods', ns, sub));
  // Exec goes to the target pods, or to the helper pod when the only target is a node.
  const execIn = (verb: string) =>
    inTargets(verb, 'exec') && (podTargets.length > 0 || !denied(verb, 'pods', helperNamespace, 'exec'));
  const minor = Number.parseInt(version?.minor ?? '', 10);
  const strictest = targetLevels.reduce<PodSecurityLevel>(
    (acc, info) => (stricter(info.level, acc) ? info.level : acc),
    'privileged',
  );
  return {
    nodeTarget: targets.some((t) => t.kind === 'node'),
    allowed: {
      getPods: inTargets('get'),
      patchEphemeralContainers: inTargets('patch', 'ephemeralcontainers'),
      getExec: execIn('get'),
      createExec: execIn('create'),
      createHelperPods:
        !denied('create', 'pods', helperNamespace) &&
        !denied('get', 'pods', helperNamespace, 'exec') &&
        !denied('create', 'pods', helperNamespace, 'exec'),
      deleteHelperPods: !denied('delete', 'pods', helperNamespace),
    },
    ephemeralContainersSupported: Number.isNaN(minor) || version?.major !== '1' || minor >= 25,
    targetPodSecurity: strictest,
    helperPodSecurity: helperLevel.level,
    helperNamespace,
    targetCannotCapture: podTargets.map(cannotCaptureItself).find((why) => why !== undefined),
  };
}

/**
 * What admission refusing `mode` at setup teaches about the cluster. A PodSecurity level preflight could not read
 * (no permission to get the namespace, so it assumed privileged) becomes known: ephemeral mode is then retried with
 * the runtime's default capabilities under baseline. Anything else (a ValidatingAdmissionPolicy, a webhook) rules the
 * mode out for this run. Pure.
 */
export function learnFromRejection(facts: ModeFacts, mode: CaptureMode, rejection: AdmissionRejection): ModeFacts {
  const level = PodSecurityLevels.find((known) => known === rejection.podSecurityLevel);
  if (level !== undefined && mode === 'ephemeral' && stricter(level, facts.targetPodSecurity)) {
    return { ...facts, targetPodSecurity: level };
  }
  if (level !== undefined && mode === 'node' && stricter(level, facts.helperPodSecurity)) {
    return { ...facts, helperPodSecurity: level };
  }
  return { ...facts, refused: { ...facts.refused, [mode]: rejection.message } };
}

const stricter = (a: PodSecurityLevel, b: PodSecurityLevel): boolean =>
  PodSecurityLevels.indexOf(a) > PodSecurityLevels.indexOf(b);

/** Why a target container cannot capture for itself (upload mode), judged from its spec. Pure. */
export function cannotCaptureItself(target: PodCaptureTarget): string | undefined {
  const container = target.spec.spec?.containers?.find((c) => c.name === target.container);
  const podContext = target.spec.spec?.securityContext;
  const ctx = container?.securityContext;
  if (ctx?.privileged) return undefined;
  const added = ctx?.capabilities?.add ?? [];
  const dropped = ctx?.capabilities?.drop ?? [];
  const hasNetRaw = added.includes('NET_RAW') || added.includes('ALL');
  if ((dropped.includes('ALL') || dropped.includes('NET_RAW')) && !hasNetRaw) {
    return `container ${targetLabel(target)} drops NET_RAW (capabilities.drop ${dropped.join(',')})`;
  }
  const runAsUser = ctx?.runAsUser ?? podContext?.runAsUser;
  const nonRoot = ctx?.runAsNonRoot ?? podContext?.runAsNonRoot;
  if (!hasNetRaw && ((runAsUser !== undefined && runAsUser !== 0) || nonRoot === true)) {
    return `container ${targetLabel(target)} runs as non-root without NET_RAW`;
  }
  return undefined;
}

function createSniffers(targets: readonly CaptureTarget[], choice: ModeChoice, ctx: SnifferContext): Sniffer[] {
  const onHelpers = targets.filter((target) => choice.mode === 'node' || target.kind === 'node');
  // One fleet for every node-mode target's node: one pod per node, created together, followed by one watch.
  let fleet: Promise<Fleet> | undefined;
  const helpers = () =>
    (fleet ??= ctx.fleets.get(SNIFF_NODE_PROFILE, [...new Set(onHelpers.map((target) => target.nodeName))]));
  return targets.map((target) => {
    if (choice.mode === 'node' || target.kind === 'node') return new NodeCapture(target, helpers, ctx);
    return choice.mode === 'ephemeral'
      ? new EphemeralCapture(target, choice.privileges, ctx)
      : new UploadCapture(target, ctx);
  });
}

const isInterrupt = (err: unknown): boolean => err instanceof InterruptedError;

/** Runs a capture. Rejects with NetdiagError for anything that prevented capturing; see SniffResult.failure for mid-capture loss. */
export async function runSniff(run: SniffRun, options: SniffOptions, sinks: SniffSinks): Promise<SniffResult> {
  const { client, session, signal } = run;
  const { progress } = sinks;
  const clock = new PhaseClock((line) => progress.debug(line));
  clock.mark('start');
  const answers = new PreflightAnswers(client, signal);
  if (!options.allNamespaces && options.target.kind !== 'node') {
    askAhead(answers, options.namespace, options.helperNamespace);
  }
  const targets = await progress.step('resolving the capture target', () =>
    resolveTargets(client, options.target, {
      namespace: options.namespace,
      allNamespaces: options.allNamespaces,
      container: options.container,
      signal,
    }),
  );
  clock.mark('resolve');
  const podTargets = targets.filter((t): t is PodCaptureTarget => t.kind === 'pod');
  const helperNamespace = options.helperNamespace ?? (await defaultHelperNamespace(answers, podTargets));
  const hostTargets = targets.filter(inHostNetwork);
  const [preflightFacts, selfStream] = await progress.step('preflight: permissions and PodSecurity', () =>
    Promise.all([
      gatherModeFacts(answers, targets, helperNamespace, signal),
      hostTargets.length > 0 && !options.includeSelf
        ? learnSelfStream(client, [...new Set(hostTargets.map((t) => t.nodeName))], progress, signal)
        : undefined,
    ]),
  );
  let facts = preflightFacts;
  clock.mark('preflight');
  let choice = selectMode(options.mode, facts);
  progress.info(choice.reason);
  if (selfStream) {
    for (const target of hostTargets) {
      // Only the node-mode helper shares the host's PID namespace, where the runtime's streaming port can be found.
      const loopback = choice.mode === 'node' || target.kind === 'node';
      progress.info(describeExclusion(selfStream, target.nodeName, loopback));
    }
  }
  if (options.tcpdump.interface !== 'any' && podTargets.length > 0) {
    await Promise.all(podTargets.map((target) => checkInterface(client, target, options.tcpdump.interface, signal)));
  }

  const limitSeconds =
    options.durationMs !== undefined
      ? Math.ceil(options.durationMs / 1000) + REMOTE_BOUND_MARGIN_SECONDS
      : DEFAULT_MAX_CAPTURE_SECONDS;
  const ctx: SnifferContext = {
    client,
    session,
    progress,
    fleets: new Fleets({
      client,
      session,
      // The fleet's own progress step would nest inside "preparing node capture": its detail goes to -v instead.
      progress: { ...progress, step: (title, task) => task((detail) => progress.debug(`${title}: ${detail}`)) },
      signal,
      namespace: helperNamespace,
      image: options.helperImage,
      podRunningTimeoutMs: options.podRunningTimeoutMs,
      // The kubelet ends a helper after the capture's bound whatever happens to this client.
      activeDeadlineSeconds: limitSeconds + 120,
    }),
    tcpdump: options.tcpdump,
    limitSeconds,
    podRunningTimeoutMs: options.podRunningTimeoutMs,
    tcpdumpImage: options.tcpdumpImage,
    selfStream,
    keptUploads: { file: options.keptUploadsFile, context: client.contextName },
  };
  // Every sniffer ever created, so the ones of a mode admission refused are cleaned up too.
  const created: Sniffer[] = [];
  const format: 'pcap' | 'pcapng' = targets.length === 1 ? 'pcap' : 'pcapng';
  const output = await sinks.openOutput();
  let captured = false;
  try {
    const names =
      format === 'pcapng' && options.resolveNames
        ? collectNameRecords(client, [...new Set(podTargets.map((t) => t.namespace))], signal).catch((err: unknown) => {
            if (!isInterrupt(err)) progress.warn(`names: ${(err as Error).message}`);
            return { records: [], notes: [] };
          })
        : undefined;
    let sniffers: Sniffer[];
    for (;;) {
      sniffers = createSniffers(targets, choice, ctx);
      created.push(...sniffers);
      try {
        await progress.step(
          `preparing ${choice.mode} capture on ${targets.length} target${targets.length === 1 ? '' : 's'}`,
          () => Promise.all(sniffers.map((sniffer) => sniffer.setup(signal))),
        );
        break;
      } catch (err) {
        // Policies preflight cannot read (ValidatingAdmissionPolicy, webhooks) refuse at creation, and nothing was
        // created then: `auto` moves on to the next mode instead of failing. An explicit mode fails.
        if (!(err instanceof AdmissionRejection)) throw err;
        if (options.mode !== 'auto') {
          const fix = `${err.fix ?? 'ask for an exception'}; or use --mode auto, which moves on when admission refuses a mode`;
          throw new AdmissionRejection(err.message, fix, err.podSecurityLevel);
        }
        facts = learnFromRejection(facts, choice.mode, err);
        choice = selectMode('auto', facts);
        progress.info(choice.reason);
      }
    }
    clock.mark('setup');
    const result = await capture(client, sniffers, output, format, options, sinks, signal, names, choice, clock);
    captured = result.written;
    return result;
  } catch (err) {
    if (isInterrupt(err)) {
      progress.info('interrupted before the capture started; cleaning up');
    }
    throw err;
  } finally {
    if (!captured) await output.discard().catch(() => undefined);
    // The helper pods are the session's: the command that owns it deletes them however the run ends.
    await Promise.all(created.map((sniffer) => sniffer.cleanup()));
  }
}

/**
 * What the API tells about the capture's own stream on `nodes`: each kubelet's port and the API server's addresses.
 * A question the user may not ask (no get on nodes, no list on EndpointSlices in default) leaves that part unknown,
 * with a warning: the capture then includes that leg.
 */
async function learnSelfStream(
  client: KubeClient,
  nodes: readonly string[],
  progress: Progress,
  signal: AbortSignal,
): Promise<SelfStream> {
  const unknown = (what: string) => (err: unknown) => {
    if (signal.aborted) throw signal.reason;
    progress.warn(
      `cannot tell the capture's own stream apart (${what}: ${(err as Error).message}); it is captured too`,
    );
    return undefined;
  };
  const [ports, slices] = await Promise.all([
    Promise.all(
      nodes.map((name) =>
        client
          .readNode(name, { signal })
          .then((node) => [name, node.status?.daemonEndpoints?.kubeletEndpoint?.Port] as const)
          .catch(unknown(`node ${name}`)),
      ),
    ),
    client
      .listEndpointSlices('default', { labelSelector: 'kubernetes.io/service-name=kubernetes' }, { signal })
      .catch(unknown('the kubernetes Service')),
  ]);
  const kubeletPorts = new Map<string, number>();
  for (const entry of ports) if (entry?.[1] !== undefined) kubeletPorts.set(entry[0], entry[1]);
  const apiServers = [
    ...new Set((slices ?? []).flatMap((slice) => (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []))),
  ];
  return { kubeletPorts, apiServers };
}

async function defaultHelperNamespace(
  answers: PreflightAnswers,
  targets: readonly PodCaptureTarget[],
): Promise<string> {
  const first = targets[0]?.namespace;
  if (first === undefined) return DEFAULT_HELPER_NAMESPACE;
  const info = await answers.podSecurity(first);
  return info.level === 'privileged' ? first : DEFAULT_HELPER_NAMESPACE;
}

interface Running {
  readonly sniffer: Sniffer;
  readonly tap: CaptureStatsTap;
  result?: RemoteCaptureResult;
  error?: unknown;
  input?: MergedInput;
}

async function capture(
  client: KubeClient,
  sniffers: readonly Sniffer[],
  output: CaptureOutput,
  format: 'pcap' | 'pcapng',
  options: SniffOptions,
  sinks: SniffSinks,
  signal: AbortSignal,
  names: Promise<{ records: { ip: string; name: string }[]; notes: string[] }> | undefined,
  choice: ModeChoice,
  clock: PhaseClock,
): Promise<SniffResult> {
  const { progress } = sinks;
  const stop = new AbortController();
  const abort = new AbortController();
  let stopReason: StopReason = 'completed';
  let stopDetail: string | undefined;
  const requestStop = (reason: StopReason, detail?: string) => {
    if (stop.signal.aborted) return;
    stopReason = reason;
    stopDetail = detail;
    stop.abort();
  };

  const running: Running[] = sniffers.map((sniffer) => ({
    sniffer,
    tap: new CaptureStatsTap({ target: targetLabel(sniffer.target) }),
  }));
  // The output replaces what its path held only once there is a packet to put there (src/lib/owned-output.ts).
  const commitOutput = () => {
    clock.mark('first packet');
    output.commit().catch((err: unknown) => requestStop('output-gone', (err as Error).message));
  };
  for (const entry of running) entry.tap.once('first-packet', commitOutput);
  let limiter: PcapRecordAligner | ChunkLimit;
  let merger: PcapngMerger | undefined;
  if (format === 'pcap') {
    limiter = new PcapRecordAligner({ maxBytes: options.maxSizeBytes });
    running[0]!.tap.pipe(limiter);
  } else {
    merger = new PcapngMerger({
      userAppl: VERSION_APPL,
      onInputError: (input, err) => progress.warn(`${input.description.name}: ${err.message}`),
    });
    for (const entry of running) {
      const target = entry.sniffer.target;
      const description =
        target.kind === 'node'
          ? { name: `node/${target.nodeName}`, description: `k8s.node=${target.nodeName}` }
          : k8sInterface({
              pod: target.pod,
              namespace: target.namespace,
              container: target.container,
              node: target.nodeName,
            });
      entry.input = merger.addInput(entry.tap, { ...description, os: 'Linux' });
    }
    limiter = new ChunkLimit(options.maxSizeBytes ?? Infinity);
    merger.pipe(limiter);
    if (names) {
      void names.then(({ records, notes }) => {
        for (const note of notes) progress.debug(note);
        if (records.length > 0) merger?.addNames(records);
      });
    }
  }
  limiter.once('limit', () => requestStop('max-size', `--max-size reached`));
  limiter.pipe(output.stream, { end: false });
  const outputDone = new Promise<void>((resolve) => limiter.once('end', () => resolve()));

  const onSignal = () =>
    requestStop('interrupted', signal.reason instanceof InterruptedError ? signal.reason.signalName : 'aborted');
  if (signal.aborted) onSignal();
  else signal.addEventListener('abort', onSignal, { once: true });
  void output.gone.then((why) => requestStop('output-gone', why));

  let durationTimer: NodeJS.Timeout | undefined;
  let listeningAt: number | undefined;
  const armDuration = () => {
    clock.mark('exec');
    listeningAt ??= Date.now();
    if (options.durationMs === undefined || durationTimer !== undefined) return;
    durationTimer = setTimeout(() => requestStop('duration', formatDuration(options.durationMs!)), options.durationMs);
  };
  const statsTimer = sinks.onStats
    ? setInterval(() => sinks.onStats?.(running.map((r) => r.tap.snapshot())), 1000)
    : undefined;
  progress.info(
    `capturing ${running.map((r) => targetLabel(r.sniffer.target)).join(', ')} → ${output.description} (${format})${options.durationMs ? ` for ${formatDuration(options.durationMs)}` : ''}; Ctrl-C to stop`,
  );

  await Promise.all(
    running.map(async (entry) => {
      try {
        entry.result = await entry.sniffer.start(entry.tap, {
          stop: stop.signal,
          abort: abort.signal,
          onListening: armDuration,
          packetsReceived: () => entry.tap.snapshot().packets,
        });
        if (
          entry.result.exitCode !== 0 &&
          entry.result.exitCode !== -1 &&
          !entry.result.stopped &&
          isUsageFailure(entry.result.stderr)
        ) {
          // Bad filter or interface: every other target will fail the same way.
          requestStop('failed', 'tcpdump rejected its arguments');
        }
      } catch (err) {
        entry.error = err;
      } finally {
        entry.tap.end();
        if (entry.input && entry.result)
          entry.input.setStatistics(tcpdumpStatsToInterfaceStatistics(entry.result.tcpdump));
      }
    }),
  );
  const captureMs = listeningAt === undefined ? 0 : Date.now() - listeningAt;
  clearTimeout(durationTimer);
  if (statsTimer) clearInterval(statsTimer);
  signal.removeEventListener('abort', onSignal);
  merger?.close();
  await outputDone;
  const packets = running.reduce((sum, r) => sum + r.tap.snapshot().packets, 0);
  // Without a packet the output keeps what it had, unless the capture ran to its own end: an empty capture of a
  // --duration is a result. Stopped, failed or lost before the first packet, it replaces nothing.
  const ranToItsEnd =
    listeningAt !== undefined &&
    ['completed', 'duration', 'max-size'].includes(stopReason) &&
    running.every((r) => r.error === undefined && r.result !== undefined && r.result.exitCode <= 0);
  const written = packets > 0 || ranToItsEnd;
  if (written) await output.finish();
  else await output.discard();
  sinks.onStats?.(running.map((r) => r.tap.snapshot()));

  for (const entry of running) {
    const ports = new RegExp(`^${RUNTIME_STREAM_MARKER} 127\\.0\\.0\\.1 ([\\d ]+)$`, 'm').exec(
      entry.result?.stderr ?? '',
    );
    const label = targetLabel(entry.sniffer.target);
    if (ports) progress.debug(`${label}: left out the runtime streaming server on 127.0.0.1 port(s) ${ports[1]}`);
    else if (entry.result?.stderr.includes(`${RUNTIME_STREAM_MARKER} none`))
      progress.warn(`${label}: no container runtime listens on 127.0.0.1; the loopback leg of the stream was captured`);
  }
  const summaries: TargetSummary[] = running.map((entry) => {
    const snap = entry.tap.snapshot();
    return {
      label: targetLabel(entry.sniffer.target),
      where: entry.sniffer.where,
      packets: snap.packets,
      bytes: snap.bytes,
      tcpdump: entry.result?.tcpdump ?? {},
      exitCode: entry.result?.exitCode,
      error:
        entry.error instanceof Error
          ? entry.error.message
          : entry.result && entry.result.exitCode > 0
            ? tcpdumpErrorLines(entry.result.stderr).join(' ')
            : undefined,
    };
  });
  const bytesWritten = limiter.bytesWritten;

  // tcpdump refused its arguments: its own message, exit 2, nothing left behind.
  const usageFailure = running.find((r) => r.result && r.result.exitCode > 0 && isUsageFailure(r.result.stderr));
  if (usageFailure?.result) {
    throw usageError(
      tcpdumpErrorLines(usageFailure.result.stderr).join('; ') || `tcpdump exited ${usageFailure.result.exitCode}`,
      'check -f/--filter (BPF syntax, see `man pcap-filter`) and -i/--interface',
    );
  }
  const failure = await explainFailures(client, running, sinks, stopReason);
  if (failure && !written) throw failure;
  if (failure) stopReason = 'failed';
  return {
    mode: choice.mode,
    reason: choice.reason,
    format,
    output: output.description,
    targets: summaries,
    stopReason,
    stopDetail,
    bytesWritten: written ? bytesWritten : 0,
    written,
    captureMs,
    failure,
  };
}

/** Turns lost captures into one clear error: which target, and whether its pod is gone or the API connection is. */
async function explainFailures(
  client: KubeClient,
  running: readonly Running[],
  sinks: SniffSinks,
  stopReason: StopReason,
): Promise<NetdiagError | undefined> {
  const failed = running.filter(
    (r) =>
      r.error !== undefined ||
      (r.result !== undefined &&
        r.result.exitCode > 0 &&
        !(r.result.stopped && (r.result.exitCode === 143 || r.result.exitCode === 130))),
  );
  if (failed.length === 0) return undefined;
  if (stopReason === 'interrupted' && failed.every((r) => isInterrupt(r.error))) return undefined;
  const lines: string[] = [];
  let apiLost = false;
  // Asked in parallel: with the API server unreachable each question waits for its timeout.
  const causes = await Promise.all(failed.map((entry) => lossCause(client, entry.sniffer.target)));
  for (const [i, entry] of failed.entries()) {
    const label = targetLabel(entry.sniffer.target);
    const cause = causes[i];
    if (cause?.kind === 'pod-gone') lines.push(`${cause.detail} during the capture`);
    else if (cause?.kind === 'api-lost') {
      apiLost = true;
      lines.push(`${label}: lost the connection to the Kubernetes API during the capture (${cause.detail})`);
    } else if (entry.error !== undefined) lines.push(`${label}: ${(entry.error as Error).message}`);
    else
      lines.push(
        `${label}: tcpdump exited ${entry.result?.exitCode}: ${tcpdumpErrorLines(entry.result?.stderr ?? '').join(' ') || 'no message'}`,
      );
  }
  sinks.progress.debug(`capture failures: ${lines.join(' | ')}`);
  return environmentError(
    lines.join('; '),
    apiLost
      ? 'the capture file holds everything captured until then; check the network path to the API server, capture again, and run `kubectl netdiag cleanup` for what this run could not delete'
      : 'the capture file holds everything captured until then; check the pod and the cluster, then capture again',
  );
}

type LossCause = { readonly kind: 'pod-gone' | 'api-lost'; readonly detail: string };

/**
 * Why a capture stream ended early, asked of the API server: the target pod is gone ("target pod NS/NAME was
 * deleted"), the API server cannot be reached any more, or undefined when everything still looks fine.
 */
async function lossCause(client: KubeClient, target: CaptureTarget): Promise<LossCause | undefined> {
  const probe = { signal: AbortSignal.timeout(10_000) };
  const name = target.kind === 'pod' ? `target pod ${target.namespace}/${target.pod}` : '';
  try {
    if (target.kind !== 'pod') {
      await client.serverVersion(probe);
      return undefined;
    }
    const pod = await client.readPod(target.namespace, target.pod, {
      ...probe,
      onFailure: (f) => (f.kind === 'not-found' ? usageError('gone') : undefined),
    });
    if (pod.metadata?.uid !== target.spec.metadata?.uid)
      return { kind: 'pod-gone', detail: `${name} was deleted (and re-created)` };
    if (pod.metadata?.deletionTimestamp) return { kind: 'pod-gone', detail: `${name} is being deleted` };
    return undefined;
  } catch (err) {
    if (err instanceof NetdiagError && err.message === 'gone')
      return { kind: 'pod-gone', detail: `${name} was deleted` };
    return { kind: 'api-lost', detail: (err as Error).message };
  }
}
