/**
 * Helper pods: short-lived pods pinned to a node that run the tools image (tcpdump, iperf3, dig ...).
 * Building the spec and classifying pod states and create failures are pure functions, unit-tested; the functions
 * that talk to the cluster are thin around them.
 */
import { randomBytes } from 'node:crypto';
import { environmentError, ExitCode, NetdiagError, usageError } from '../lib/errors.js';
import { formatDuration } from '../lib/duration.js';
import type { KubeClient, V1ContainerPort, V1Pod, V1ResourceRequirements, V1Toleration } from './client.js';
import type { ClassifiedFailure } from './failures.js';

/** Tolerate every NoSchedule and NoExecute taint: a diagnostic must reach tainted nodes (control plane, dedicated pools). */
export const TOLERATE_ALL_TAINTS: readonly V1Toleration[] = [
  { operator: 'Exists', effect: 'NoSchedule' },
  { operator: 'Exists', effect: 'NoExecute' },
];

export interface HostPathMount {
  readonly name: string;
  readonly hostPath: string;
  readonly mountPath: string;
  readonly readOnly?: boolean;
}

export interface HelperPodOptions {
  readonly namespace: string;
  /** Node to run on, set as spec.nodeName (no scheduler, so it works when scheduling is what is broken). */
  readonly nodeName: string;
  /** Tools image; resolve it with resolveToolsImage (src/lib/config.ts). */
  readonly image: string;
  /** Short word in the generated name: `netdiag-<purpose>-xxxxx`. */
  readonly purpose: string;
  /** Main process; defaults to sleeping until the active deadline, exec does the work. */
  readonly command?: readonly string[];
  /** Kubelet kills the pod after this many seconds whatever happens to the client (safety net). Default 3600. */
  readonly activeDeadlineSeconds?: number;
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly privileged?: boolean;
  /** Linux capabilities to add, e.g. NET_ADMIN, NET_RAW. */
  readonly capabilities?: readonly string[];
  readonly hostPaths?: readonly HostPathMount[];
  /** Extra labels (the session's are always added). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Requests/limits; default a token 10m CPU / 16Mi, enough for probes but not for iperf3. */
  readonly resources?: V1ResourceRequirements;
  /** Ports the container listens on (documentation for readers of the pod; hostNetwork pods bind the node's). */
  readonly ports?: readonly V1ContainerPort[];
  /** e.g. ClusterFirstWithHostNet for a hostNetwork pod that must resolve cluster names. */
  readonly dnsPolicy?: string;
  /** Default {@link TOLERATE_ALL_TAINTS}. */
  readonly tolerations?: readonly V1Toleration[];
}

/** What a helper pod asks for when the caller does not say: a probe that sleeps and is exec'd into. */
export const DEFAULT_HELPER_RESOURCES: V1ResourceRequirements = { requests: { cpu: '10m', memory: '16Mi' } };

export const DEFAULT_ACTIVE_DEADLINE_SECONDS = 3600;

/** Pod name suffix: 5 chars of [a-z0-9] like the API's generateName, but known before create so it can be tracked. */
export const randomSuffix = (): string =>
  [...randomBytes(5)].map((byte) => 'bcdfghjklmnpqrstvwxz2456789'[byte % 27]).join('');

/** Builds the helper pod manifest. Pure. */
export function buildHelperPod(
  options: HelperPodOptions,
  sessionLabels: Readonly<Record<string, string>>,
  suffix: string = randomSuffix(),
): V1Pod {
  const deadline = options.activeDeadlineSeconds ?? DEFAULT_ACTIVE_DEADLINE_SECONDS;
  const purpose = options.purpose.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `netdiag-${purpose}-${suffix}`,
      namespace: options.namespace,
      labels: { ...options.labels, ...sessionLabels },
    },
    spec: {
      nodeName: options.nodeName,
      restartPolicy: 'Never',
      activeDeadlineSeconds: deadline,
      terminationGracePeriodSeconds: 2,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: options.hostNetwork ?? false,
      hostPID: options.hostPID ?? false,
      ...(options.dnsPolicy ? { dnsPolicy: options.dnsPolicy } : {}),
      tolerations: [...(options.tolerations ?? TOLERATE_ALL_TAINTS)],
      containers: [
        {
          name: 'tools',
          image: options.image,
          imagePullPolicy: 'IfNotPresent',
          command: [...(options.command ?? ['sleep', String(deadline)])],
          resources: options.resources ?? DEFAULT_HELPER_RESOURCES,
          ...(options.ports && options.ports.length > 0 ? { ports: [...options.ports] } : {}),
          securityContext: {
            privileged: options.privileged ?? false,
            ...(options.capabilities && options.capabilities.length > 0
              ? { capabilities: { add: [...options.capabilities] } }
              : {}),
          },
          volumeMounts: (options.hostPaths ?? []).map((mount) => ({
            name: mount.name,
            mountPath: mount.mountPath,
            readOnly: mount.readOnly ?? true,
          })),
        },
      ],
      volumes: (options.hostPaths ?? []).map((mount) => ({ name: mount.name, hostPath: { path: mount.hostPath } })),
    },
  };
}

/** What waiting for a pod has come to. */
export type PodProgress =
  | { readonly state: 'running' }
  | { readonly state: 'waiting'; readonly detail: string }
  | { readonly state: 'failed'; readonly error: NetdiagError };

const IMAGE_PULL_REASONS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
]);
const CONTAINER_FAILURE_REASONS = new Set([
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'CrashLoopBackOff',
  'StartError',
]);

/**
 * The image-pull error of a container whose image the kubelet cannot pull (pods and ephemeral containers alike), or
 * undefined. `fix` names the caller's way to another image; the default speaks of `--image`.
 */
export function imagePullFailure(
  status: { image?: string; state?: { waiting?: { reason?: string; message?: string } } },
  where: string,
  fix = 'pass --image with an image the nodes can pull, or set NETDIAG_REGISTRY to your mirror',
): NetdiagError | undefined {
  const waiting = status.state?.waiting;
  if (!waiting?.reason || !IMAGE_PULL_REASONS.has(waiting.reason)) return undefined;
  const image = status.image ?? '(unknown image)';
  const detail = `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  return environmentError(`cannot pull image ${image} for ${where} (${detail})`, fix);
}

/** Classifies a container's waiting/terminated state; undefined means "still coming up". Shared with ephemeral containers. */
export function classifyContainerState(
  status: {
    name: string;
    image?: string;
    state?: {
      waiting?: { reason?: string; message?: string };
      running?: object;
      terminated?: { reason?: string; exitCode?: number; message?: string };
    };
  },
  where: string,
  imageFix?: string,
): PodProgress | undefined {
  const pull = imagePullFailure(status, where, imageFix);
  if (pull) return { state: 'failed', error: pull };
  const waiting = status.state?.waiting;
  if (waiting?.reason && CONTAINER_FAILURE_REASONS.has(waiting.reason)) {
    return {
      state: 'failed',
      error: environmentError(
        `container ${status.name} of ${where} cannot start (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`,
        `inspect it with \`kubectl describe pod\``,
      ),
    };
  }
  const terminated = status.state?.terminated;
  if (terminated) {
    return {
      state: 'failed',
      error: environmentError(
        `container ${status.name} of ${where} exited (${terminated.reason ?? 'Terminated'}, exit code ${terminated.exitCode ?? '?'}${terminated.message ? `: ${terminated.message}` : ''})`,
        'check that the image has the command it is asked to run',
      ),
    };
  }
  if (status.state?.running) return { state: 'running' };
  return undefined;
}

/** Classifies a helper pod while waiting for it to run. Pure; every waiting reason maps to a clear error. */
export function classifyPodProgress(pod: V1Pod | undefined, where: string, imageFix?: string): PodProgress {
  if (!pod)
    return {
      state: 'failed',
      error: environmentError(
        `${where} was deleted while starting`,
        'something else deleted it (another `kubectl netdiag cleanup`?); retry',
      ),
    };
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    const reason = pod.status?.reason ?? phase;
    const message = pod.status?.message;
    const terminated = pod.status?.containerStatuses?.find((c) => c.state?.terminated);
    const classified = terminated ? classifyContainerState(terminated, where) : undefined;
    if (classified?.state === 'failed' && !pod.status?.reason) return classified;
    return {
      state: 'failed',
      error: environmentError(
        `${where} ended before it was ready (${reason}${message ? `: ${message}` : ''})`,
        'the node rejected or stopped it; check `kubectl describe pod` and the node',
      ),
    };
  }
  const unschedulable = pod.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  if (unschedulable) {
    return {
      state: 'failed',
      error: environmentError(
        `${where} is unschedulable: ${unschedulable.message ?? 'no reason given'}`,
        'pick another node or free resources on this one',
      ),
    };
  }
  const statuses = pod.status?.containerStatuses ?? [];
  for (const status of statuses) {
    const classified = classifyContainerState(status, where, imageFix);
    if (classified?.state === 'failed') return classified;
  }
  if (phase === 'Running' && statuses.length > 0 && statuses.every((s) => s.state?.running))
    return { state: 'running' };
  const waitingReason = statuses.find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
  return { state: 'waiting', detail: waitingReason ?? phase ?? 'Pending' };
}

/** Extracts `"restricted:latest"` from a PodSecurity admission message. */
export function podSecurityLevelFromMessage(message: string): string | undefined {
  return /violates PodSecurity "([a-z]+)(?::[^"]*)?"/.exec(message)?.[1];
}

/**
 * The cluster's admission chain refused an object (PodSecurity, a ValidatingAdmissionPolicy, an admission webhook):
 * nothing was created, and another way of doing the same job may be allowed.
 */
export class AdmissionRejection extends NetdiagError {
  constructor(
    cause: string,
    fix: string,
    /** The PodSecurity level that refused it, when PodSecurity did (`baseline`, `restricted`). */
    readonly podSecurityLevel?: string,
  ) {
    super(ExitCode.Environment, cause, fix);
    this.name = 'AdmissionRejection';
  }
}

/** `ValidatingAdmissionPolicy 'NAME' … denied request` or `admission webhook "NAME" denied the request`. */
export function admissionPolicyFromMessage(message: string): string | undefined {
  const policy = /ValidatingAdmissionPolicy '([^']+)'[^:]* denied request/.exec(message)?.[1];
  if (policy) return `ValidatingAdmissionPolicy ${policy}`;
  const webhook = /admission webhook "([^"]+)" denied the request/.exec(message)?.[1];
  return webhook ? `admission webhook ${webhook}` : undefined;
}

/** Classifies why creating (or patching) a pod failed at admission. Pure. */
export function classifyAdmissionFailure(
  failure: ClassifiedFailure,
  namespace: string,
  what: string,
  verbResource: string,
): NetdiagError | undefined {
  const message = failure.message;
  if (failure.kind === 'forbidden' || failure.httpStatus === 422 || failure.httpStatus === 400) {
    const level = podSecurityLevelFromMessage(message);
    if (level) {
      const violations = message.split(/violates PodSecurity "[^"]*":\s*/)[1] ?? message;
      return new AdmissionRejection(
        `namespace "${namespace}" enforces PodSecurity "${level}", which rejects ${what}: ${violations}`,
        `use a namespace whose pod-security.kubernetes.io/enforce level allows it (privileged), or ask an admin to relabel "${namespace}"`,
        level,
      );
    }
    const policy = admissionPolicyFromMessage(message);
    if (policy) {
      const reason = message.split(/denied (?:the )?request:\s*/)[1] ?? message;
      return new AdmissionRejection(
        `${policy} rejects ${what} in namespace "${namespace}": ${reason}`,
        `ask the policy's owner for an exception, or use a way that does not need ${verbResource}`,
      );
    }
    if (/exceeded quota|failed quota/.test(message)) {
      return environmentError(
        `resource quota in namespace "${namespace}" rejects ${what}: ${message}`,
        'free quota in the namespace or run in another one with -n',
      );
    }
  }
  if (failure.kind === 'forbidden') {
    return environmentError(
      `forbidden: cannot ${verbResource} in namespace "${namespace}" (${message})`,
      'ask a cluster admin for this permission (see docs/rbac.yaml)',
    );
  }
  if (failure.kind === 'not-found' && failure.status?.details?.kind === 'namespaces') {
    return usageError(
      `namespace "${namespace}" not found`,
      'list namespaces with `kubectl get namespaces` and pass -n',
    );
  }
  return undefined;
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Called with each new waiting detail (ContainerCreating, Pending ...), for progress output. */
  readonly onDetail?: (detail: string) => void;
  /** How the user can allow more time, for the timeout error (e.g. "raise --pod-running-timeout"). */
  readonly timeoutFix?: string;
  /** How the user can pick another image (the caller's flag names), for image pull failures. */
  readonly imageFix?: string;
}

/**
 * Watches a pod until `classify` says running, turning a failure state into its error and the timeout into one that
 * says what the pod was still waiting for. Shared by helper pods and ephemeral containers.
 */
export async function watchUntilRunning(
  client: KubeClient,
  namespace: string,
  podName: string,
  classify: (pod: V1Pod | undefined) => PodProgress,
  wait: WaitOptions,
  what: string,
  /** The pod as a create or patch just returned it: the watch starts from it instead of reading it again. */
  known?: V1Pod,
): Promise<V1Pod> {
  let lastDetail = '';
  const timeout = AbortSignal.timeout(wait.timeoutMs);
  try {
    return await client.watchPod(
      namespace,
      podName,
      (pod) => {
        const progress = classify(pod);
        if (progress.state === 'running') return pod;
        if (progress.state === 'failed') throw progress.error;
        if (progress.detail !== lastDetail) wait.onDetail?.(progress.detail);
        lastDetail = progress.detail;
        return undefined;
      },
      AbortSignal.any([wait.signal, timeout]),
      known,
    );
  } catch (err) {
    if (timeout.aborted && !wait.signal.aborted) {
      throw environmentError(
        `${what} is not running after ${formatDuration(wait.timeoutMs)} (still ${lastDetail || 'without status'})`,
        `check \`kubectl describe pod -n ${namespace} ${podName}\`${wait.timeoutFix ? `, or ${wait.timeoutFix}` : ''}`,
      );
    }
    throw err;
  }
}
