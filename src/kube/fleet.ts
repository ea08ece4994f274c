/**
 * The node fleet: one helper pod per chosen node, built from a named profile the way `kubectl debug --profile` shapes
 * its pods, so bw, dns, check, node and doctor do not each grow a deployer. Pods are pinned with spec.nodeName
 * (never hostname labels: they differ from node names on some clusters), tolerate every taint, are created in
 * parallel under a bound, and ONE list+watch of the session's pods follows them all to Running. A node whose pod
 * cannot run (pull failure, rejected by the kubelet, not running in time) is a result, "unavailable: reason", and
 * the rest of the run goes on.
 *
 * The profile is also what preflight checks ({@link profileSecurityNeeds}, {@link fleetRequirements}), so the pod that
 * is built and the permissions and PodSecurity level that are checked cannot disagree.
 */
import { mapBounded } from '../lib/concurrency.js';
import { formatDuration } from '../lib/duration.js';
import type { Progress } from '../lib/progress.js';
import { boundedArgv } from './bounded.js';
import type { KubeClient, V1ContainerPort, V1Pod, V1ResourceRequirements, V1Toleration } from './client.js';
import { execCapture, untilExecSucceeds } from './exec.js';
import {
  buildHelperPod,
  classifyAdmissionFailure,
  classifyPodProgress,
  DEFAULT_ACTIVE_DEADLINE_SECONDS,
  DEFAULT_HELPER_RESOURCES,
  type HostPathMount,
} from './pods.js';
import { execRequirements, type AccessRequirement, type SecurityNeeds } from './preflight.js';
import type { RunSession } from './session.js';

/** Label carrying the profile name, so one watch can follow a fleet and an operator can find its pods. */
export const PROFILE_LABEL = 'kubectl-netdiag/profile';

/** A recipe for the helper pod on each node. Build one with {@link PROFILES} or {@link extendProfile}. */
export interface FleetProfile {
  /** Also the word in pod names (`netdiag-<name>-xxxxx`) and `unavailable[].profile` in reports. */
  readonly name: string;
  readonly hostNetwork: boolean;
  readonly hostPID: boolean;
  readonly privileged: boolean;
  /** Capabilities added to the container. */
  readonly capabilities: readonly string[];
  readonly hostPaths: readonly HostPathMount[];
  /** The main process; default: sleep until the pod's deadline (work is exec'd). */
  readonly command?: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly resources: V1ResourceRequirements;
  readonly ports: readonly V1ContainerPort[];
  readonly dnsPolicy?: string;
  readonly tolerations?: readonly V1Toleration[];
}

export type ProfileName = 'pod-probe' | 'host-probe' | 'node-inspector';

const base = { hostPaths: [], labels: {}, resources: DEFAULT_HELPER_RESOURCES, ports: [] } as const;

/** The three shapes every diagnosis needs. */
export const PROFILES: Readonly<Record<ProfileName, FleetProfile>> = {
  /** The pod network as workloads see it: no privilege, only NET_RAW (ping, raw DNS probes). */
  'pod-probe': {
    ...base,
    name: 'pod-probe',
    hostNetwork: false,
    hostPID: false,
    privileged: false,
    capabilities: ['NET_RAW'],
  },
  /** The node's own network namespace (host network paths, NodePorts, node-local DNS as the node sees it). */
  'host-probe': {
    ...base,
    name: 'host-probe',
    hostNetwork: true,
    hostPID: false,
    privileged: false,
    capabilities: ['NET_RAW'],
  },
  /** Reads the node: privileged, hostPID + hostNetwork, the host's `/` read-only at /host (iptables, CNI, sysctls). */
  'node-inspector': {
    ...base,
    name: 'node-inspector',
    hostNetwork: true,
    hostPID: true,
    privileged: true,
    capabilities: [],
    hostPaths: [{ name: 'host-root', hostPath: '/', mountPath: '/host', readOnly: true }],
  },
};

/** What a command may change in a profile; the security shape (privilege, host namespaces) stays the profile's. */
export interface ProfileExtension {
  /** Names the extended profile (`iperf3-server`); fleets are memoised by it. */
  readonly name: string;
  readonly command?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly resources?: V1ResourceRequirements;
  readonly ports?: readonly V1ContainerPort[];
  readonly dnsPolicy?: string;
  readonly tolerations?: readonly V1Toleration[];
}

/** A profile with a command's own process, labels, resources or ports (e.g. iperf3 servers sized for the test). */
export function extendProfile(profile: FleetProfile | ProfileName, extension: ProfileExtension): FleetProfile {
  const from = typeof profile === 'string' ? PROFILES[profile] : profile;
  return {
    ...from,
    ...extension,
    labels: { ...from.labels, ...extension.labels },
  };
}

/** What the profile's pod asks of PodSecurity, for preflight's {@link podSecurityViolations}. Pure. */
export function profileSecurityNeeds(profile: FleetProfile): SecurityNeeds {
  return {
    privileged: profile.privileged,
    hostNetwork: profile.hostNetwork,
    hostPID: profile.hostPID,
    hostPath: profile.hostPaths.length > 0,
    capabilities: profile.capabilities,
    runsAsRoot: true,
  };
}

/** The permissions a fleet needs in its namespace: create/watch/delete its pods, exec into them. */
export function fleetRequirements(namespace: string): AccessRequirement[] {
  return [
    ...['create', 'get', 'list', 'watch', 'delete'].map((verb) => ({ verb, resource: 'pods', namespace })),
    ...execRequirements(namespace),
  ];
}

/** The pod of `profile` on `node`. Pure. */
export function buildFleetPod(
  profile: FleetProfile,
  node: string,
  settings: { namespace: string; image: string; activeDeadlineSeconds: number },
  sessionLabels: Readonly<Record<string, string>>,
  suffix?: string,
): V1Pod {
  return buildHelperPod(
    {
      namespace: settings.namespace,
      nodeName: node,
      image: settings.image,
      purpose: profile.name,
      command: profile.command,
      activeDeadlineSeconds: settings.activeDeadlineSeconds,
      hostNetwork: profile.hostNetwork,
      hostPID: profile.hostPID,
      privileged: profile.privileged,
      capabilities: profile.capabilities,
      hostPaths: profile.hostPaths,
      labels: { ...profile.labels, [PROFILE_LABEL]: profile.name },
      resources: profile.resources,
      ports: profile.ports,
      dnsPolicy: profile.dnsPolicy,
      tolerations: profile.tolerations,
    },
    sessionLabels,
    suffix,
  );
}

export interface FleetMember {
  readonly node: string;
  readonly namespace: string;
  readonly pod: string;
  readonly podIP: string;
  readonly hostIP: string;
}

/** A node whose pod of this profile could not run, and why. Same shape as the report's `unavailable`. */
export interface UnavailableNode {
  readonly node: string;
  readonly profile: string;
  readonly reason: string;
}

/** What one command printed on one node. */
export interface ExecOutput {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type NodeOutcome<T> =
  | { readonly node: string; readonly ok: true; readonly value: T }
  | { readonly node: string; readonly ok: false; readonly reason: string };

export interface ExecBound {
  /** The remote command is killed after this long (coreutils `timeout`), and the client stops waiting soon after. */
  readonly timeoutMs: number;
}

export interface ExecAllOptions extends ExecBound {
  /** Nodes exec'd at once; default {@link DEFAULT_CONCURRENCY}. */
  readonly concurrency?: number;
}

/** How many pods are created, or commands exec'd, at once. */
export const DEFAULT_CONCURRENCY = 20;
/** Exit status of `timeout` when the bound fired. */
const TIMED_OUT = 124;
/** Client-side slack past the remote bound: `timeout -k 5` kills 5 s after TERM, then the status must arrive. */
const CLIENT_SLACK_MS = 10_000;

/** The helper pods of one profile on a set of nodes. */
export class Fleet {
  constructor(
    readonly profile: FleetProfile,
    /** Members in node order. */
    readonly members: readonly FleetMember[],
    readonly unavailable: readonly UnavailableNode[],
    private readonly client: KubeClient,
    private readonly signal: AbortSignal,
  ) {}

  member(node: string): FleetMember | undefined {
    return this.members.find((member) => member.node === node);
  }

  /** Runs argv (no shell) in the node's helper, bounded on both sides. A non-zero exit code is a result. */
  async exec(node: string, argv: readonly string[], bound: ExecBound): Promise<ExecOutput> {
    const member = this.member(node);
    if (!member) throw new Error(`no ${this.profile.name} helper on node ${node}`);
    const result = await execCapture(this.client, {
      namespace: member.namespace,
      pod: member.pod,
      container: 'tools',
      command: boundedArgv(argv, { seconds: bound.timeoutMs / 1000 }),
      signal: AbortSignal.any([this.signal, AbortSignal.timeout(bound.timeoutMs + CLIENT_SLACK_MS)]),
    });
    return { exitCode: result.exitCode, stdout: result.stdout.toString('utf8'), stderr: result.stderr };
  }

  /**
   * Runs a bounded command on every member (argv, or argv per member) and parses each output. A node where exec
   * fails, the bound fires or `parse` throws is a failed outcome with the reason; the others still answer. An
   * interruption of the run rejects.
   */
  execAll<T>(
    argv: readonly string[] | ((member: FleetMember) => readonly string[]),
    parse: (output: ExecOutput, member: FleetMember) => T,
    options: ExecAllOptions,
  ): Promise<NodeOutcome<T>[]> {
    return mapBounded(this.members, options.concurrency ?? DEFAULT_CONCURRENCY, async (member) => {
      const command = typeof argv === 'function' ? argv(member) : argv;
      try {
        const output = await this.exec(member.node, command, options);
        if (output.exitCode === TIMED_OUT)
          return failed(member.node, `\`${command.join(' ')}\` timed out after ${formatDuration(options.timeoutMs)}`);
        return { node: member.node, ok: true, value: parse(output, member) };
      } catch (err) {
        if (this.signal.aborted) throw this.signal.reason;
        return failed(member.node, err instanceof Error ? err.message : String(err));
      }
    });
  }

  /** The same pods seen as a fleet on fewer nodes (a second engine asking for a subset shares the pods). */
  restrictedTo(nodes: readonly string[]): Fleet {
    const wanted = new Set(nodes);
    return new Fleet(
      this.profile,
      this.members.filter((member) => wanted.has(member.node)),
      this.unavailable.filter((entry) => wanted.has(entry.node)),
      this.client,
      this.signal,
    );
  }
}

const failed = (node: string, reason: string): NodeOutcome<never> => ({ node, ok: false, reason });

export interface FleetSettings {
  readonly client: KubeClient;
  readonly session: RunSession;
  readonly progress: Progress;
  readonly signal: AbortSignal;
  /** Where the helper pods go. */
  readonly namespace: string;
  /** The tools image. */
  readonly image: string;
  /** How long a pod may take to run before its node is reported unavailable. Default 1 min. */
  readonly podRunningTimeoutMs?: number;
  /** The kubelet kills helpers after this long whatever happens to the client. Default 1 h. */
  readonly activeDeadlineSeconds?: number;
  /** Pods created at once. Default {@link DEFAULT_CONCURRENCY}. */
  readonly concurrency?: number;
}

const DEFAULT_POD_RUNNING_TIMEOUT_MS = 60_000;

/**
 * The fleets of a run, memoised per profile: doctor's engines asking for `pod-probe` on the same nodes (or a subset)
 * get the same pods. The run session owns the pods; nothing here deletes them.
 */
export class Fleets {
  private readonly started = new Map<
    string,
    { profile: FleetProfile; nodes: ReadonlySet<string>; fleet: Promise<Fleet> }
  >();

  constructor(private readonly settings: FleetSettings) {}

  /** The fleet of `profile` on `nodes`, created on first use. */
  async get(profile: FleetProfile | ProfileName, nodes: readonly string[]): Promise<Fleet> {
    const recipe = typeof profile === 'string' ? PROFILES[profile] : profile;
    for (const entry of this.started.values()) {
      if (entry.profile.name !== recipe.name) continue;
      if (JSON.stringify(entry.profile) !== JSON.stringify(recipe))
        throw new Error(`two different fleet profiles are both named ${recipe.name}`);
      if (nodes.every((node) => entry.nodes.has(node))) {
        const fleet = await entry.fleet;
        return nodes.length === entry.nodes.size ? fleet : fleet.restrictedTo(nodes);
      }
    }
    const fleet = startFleet(this.settings, recipe, [...new Set(nodes)]);
    this.started.set(`${recipe.name}|${[...nodes].sort().join(',')}`, {
      profile: recipe,
      nodes: new Set(nodes),
      fleet,
    });
    return fleet;
  }
}

/** Where each node's pod stands while the fleet comes up. */
type NodeState =
  | { readonly state: 'creating' | 'waiting'; readonly pod: string; readonly detail: string }
  | { readonly state: 'running'; readonly member: FleetMember }
  | { readonly state: 'unavailable'; readonly reason: string };

async function startFleet(settings: FleetSettings, profile: FleetProfile, nodes: readonly string[]): Promise<Fleet> {
  const { client, session, progress, signal, namespace } = settings;
  const timeoutMs = settings.podRunningTimeoutMs ?? DEFAULT_POD_RUNNING_TIMEOUT_MS;
  const manifests = nodes.map((node) =>
    buildFleetPod(
      profile,
      node,
      {
        namespace,
        image: settings.image,
        activeDeadlineSeconds: settings.activeDeadlineSeconds ?? DEFAULT_ACTIVE_DEADLINE_SECONDS,
      },
      session.labels,
    ),
  );
  const states = new Map<string, NodeState>(
    manifests.map((pod, index) => [
      nodes[index] as string,
      { state: 'creating', pod: pod.metadata?.name ?? '', detail: 'creating' },
    ]),
  );
  const nodeOfPod = new Map(manifests.map((pod, index) => [pod.metadata?.name ?? '', nodes[index] as string]));
  const settled = () => [...states.values()].every((s) => s.state === 'running' || s.state === 'unavailable');
  const running = () => [...states.values()].filter((s) => s.state === 'running').length;

  return progress.step(`starting ${profile.name} pods on ${nodes.length} node(s)`, async (detail) => {
    const done = new AbortController();
    const timeout = AbortSignal.timeout(timeoutMs);
    const watchSignal = AbortSignal.any([signal, timeout, done.signal]);
    let fatal: unknown;
    // Pods whose container answered an exec: running before the kubelet's next relist says so.
    const answered = new Set<string>();
    const latest = new Map<string, V1Pod>();
    const update = (name: string, pod: V1Pod): void => {
      const node = nodeOfPod.get(name);
      const current = node === undefined ? undefined : states.get(node);
      if (node === undefined || current === undefined || current.state === 'running' || current.state === 'unavailable')
        return;
      const seen = classifyPodProgress(pod, `${profile.name} pod ${namespace}/${name} on ${node}`);
      // An answered exec stands for Running once the pod has its address (host-network pods have it from the
      // kubelet's first status; the others get it with Running).
      if (seen.state === 'running' || (seen.state === 'waiting' && answered.has(name) && pod.status?.podIP)) {
        states.set(node, {
          state: 'running',
          member: { node, namespace, pod: name, podIP: pod.status?.podIP ?? '', hostIP: pod.status?.hostIP ?? '' },
        });
      } else if (seen.state === 'failed') states.set(node, { state: 'unavailable', reason: seen.error.message });
      else states.set(node, { state: 'waiting', pod: name, detail: seen.detail });
    };
    const observe = (pods: ReadonlyMap<string, V1Pod>): true | undefined => {
      for (const [name, pod] of pods) {
        latest.set(name, pod);
        update(name, pod);
      }
      detail(`${running()}/${nodes.length} running`);
      return settled() ? true : undefined;
    };
    const probe = async (name: string): Promise<void> => {
      if (!(await untilExecSucceeds(client, { namespace, pod: name, container: 'tools' }, ['true'], watchSignal)))
        return;
      answered.add(name);
      const pod = latest.get(name);
      if (pod) update(name, pod);
      detail(`${running()}/${nodes.length} running`);
      if (settled()) done.abort();
    };
    const probes: Promise<void>[] = [];
    const watching = client
      .watchPods(namespace, `${session.selector},${PROFILE_LABEL}=${profile.name}`, observe, watchSignal)
      .catch((err: unknown) => {
        // The fleet's own stop, the pod timeout and the run's abort are handled below; anything else ends the run.
        if (!watchSignal.aborted) fatal ??= err;
      });
    const creating = mapBounded(manifests, settings.concurrency ?? DEFAULT_CONCURRENCY, async (manifest, index) => {
      const node = nodes[index] as string;
      const name = manifest.metadata?.name ?? '';
      if (signal.aborted || fatal !== undefined) return;
      // Tracked before the request: an interruption while it is in flight must not leave an untracked pod.
      session.trackPod(namespace, name);
      let refused = false;
      try {
        await client.createPod(namespace, manifest, {
          signal,
          onFailure: (failure) => {
            const error = classifyAdmissionFailure(failure, namespace, `${profile.name} pod ${name}`, 'create pods');
            refused = error !== undefined;
            return error;
          },
        });
        probes.push(probe(name));
      } catch (err) {
        if (signal.aborted) return;
        // Admission and RBAC answer for the whole namespace: every node would be refused the same way.
        if (refused) fatal ??= err;
        else states.set(node, { state: 'unavailable', reason: err instanceof Error ? err.message : String(err) });
        if (settled()) done.abort();
      }
    });
    await creating;
    if (fatal === undefined && !signal.aborted && !settled()) await Promise.race([watching, onAbort(done.signal)]);
    done.abort();
    await Promise.all([watching, ...probes]);
    if (signal.aborted) throw signal.reason;
    if (fatal !== undefined) throw fatal;
    const members: FleetMember[] = [];
    const unavailable: UnavailableNode[] = [];
    for (const node of nodes) {
      const state = states.get(node);
      if (state?.state === 'running') members.push(state.member);
      else if (state?.state === 'unavailable') unavailable.push({ node, profile: profile.name, reason: state.reason });
      else
        unavailable.push({
          node,
          profile: profile.name,
          reason: `${profile.name} pod ${namespace}/${state?.pod ?? '?'} not running after ${formatDuration(timeoutMs)} (still ${state?.detail ?? 'without status'})`,
        });
    }
    for (const entry of unavailable) progress.warn(`${entry.node}: unavailable: ${entry.reason}`);
    return new Fleet(profile, members, unavailable, client, signal);
  });
}

const onAbort = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
