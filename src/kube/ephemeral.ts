/**
 * Ephemeral containers: added to a running pod through the `pods/ephemeralcontainers` subresource with a strategic
 * merge patch (as kubectl debug does). They cannot be changed or removed, so callers reuse a running one whenever
 * their predicate accepts it instead of piling up containers on the user's pod.
 */
import { environmentError, type NetdiagError, usageError } from '../lib/errors.js';
import type { KubeClient, V1EphemeralContainer, V1Pod } from './client.js';
import { untilExecSucceeds } from './exec.js';
import type { ClassifiedFailure } from './failures.js';
import {
  classifyAdmissionFailure,
  classifyContainerState,
  imagePullFailure,
  randomSuffix,
  watchUntilRunning,
  type PodProgress,
  type WaitOptions,
} from './pods.js';

/** What a reuse predicate sees of an existing ephemeral container. */
export interface EphemeralCandidate {
  readonly name: string;
  readonly image: string;
  readonly targetContainerName?: string;
  readonly running: boolean;
}

export interface EphemeralContainerOptions {
  readonly namespace: string;
  readonly pod: string;
  readonly image: string;
  /** Main process of the container. Bound it (e.g. `sleep 3600`): it cannot be removed, only outlive its purpose. */
  readonly command: readonly string[];
  /** The pod as the caller just read it, if it did: saves reading it again. */
  readonly known?: V1Pod;
  /** Name prefix; a random suffix is added (`netdiag-` gives `netdiag-k2x9q`). Encode what you need to recognise it. */
  readonly namePrefix?: string;
  /** Share this container's process namespace (`targetContainerName`). */
  readonly targetContainer?: string;
  readonly capabilities?: readonly string[];
  readonly privileged?: boolean;
  /** Return true to reuse an existing RUNNING ephemeral container instead of adding one. */
  readonly reuse?: (candidate: EphemeralCandidate) => boolean;
  /**
   * A command that succeeds in the new container as soon as it runs (`sh -c :`). Given, it is tried while the pod is
   * watched, and the first success ends the wait: the kubelet reports a started container only at its next relist of
   * the runtime (up to a second later), while exec reaches the runtime at once.
   */
  readonly readyProbe?: readonly string[];
}

export interface EphemeralContainerHandle {
  readonly name: string;
  /** True when an existing container was reused. */
  readonly reused: boolean;
}

/** The ephemeral containers of a pod with their running state. Pure. */
export function ephemeralCandidates(pod: V1Pod): EphemeralCandidate[] {
  const statuses = pod.status?.ephemeralContainerStatuses ?? [];
  return (pod.spec?.ephemeralContainers ?? []).map((container) => ({
    name: container.name,
    image: container.image ?? '',
    targetContainerName: container.targetContainerName,
    running: statuses.some((status) => status.name === container.name && status.state?.running !== undefined),
  }));
}

/** The strategic-merge patch that appends one ephemeral container (merge key: name). Pure. */
export function ephemeralContainerPatch(
  options: EphemeralContainerOptions,
  name: string,
): { spec: { ephemeralContainers: V1EphemeralContainer[] } } {
  const capabilities =
    options.capabilities && options.capabilities.length > 0 ? { capabilities: { add: [...options.capabilities] } } : {};
  const securityContext =
    options.privileged || options.capabilities?.length
      ? { securityContext: { privileged: options.privileged ?? false, ...capabilities } }
      : {};
  return {
    spec: {
      ephemeralContainers: [
        {
          name,
          image: options.image,
          imagePullPolicy: 'IfNotPresent',
          command: [...options.command],
          stdin: false,
          tty: false,
          terminationMessagePolicy: 'File',
          ...(options.targetContainer ? { targetContainerName: options.targetContainer } : {}),
          ...securityContext,
        },
      ],
    },
  };
}

/** Classifies a failed ephemeral-container patch. Pure. */
export function classifyEphemeralPatchFailure(
  failure: ClassifiedFailure,
  options: { namespace: string; pod: string },
): NetdiagError | undefined {
  if (failure.kind === 'not-found') {
    // A 404 naming the pod means the pod is gone; a bare 404 means the subresource does not exist (feature off).
    if (failure.status?.details?.name === options.pod || /pods? ".*" not found/.test(failure.message)) {
      return usageError(
        `pod "${options.pod}" not found in namespace "${options.namespace}"`,
        `list pods with \`kubectl get pods -n ${options.namespace}\``,
      );
    }
    return environmentError(
      'the API server does not serve pods/ephemeralcontainers (ephemeral containers are disabled or the cluster is older than 1.23)',
      'enable the EphemeralContainers feature, upgrade the cluster, or use a capture mode that does not need them',
    );
  }
  return classifyAdmissionFailure(
    failure,
    options.namespace,
    `an ephemeral container in pod ${options.pod}`,
    'patch pods/ephemeralcontainers',
  );
}

/** State of one ephemeral container while waiting for it. Pure. */
export function classifyEphemeralProgress(
  pod: V1Pod | undefined,
  name: string,
  where: string,
  imageFix?: string,
): PodProgress {
  if (!pod)
    return {
      state: 'failed',
      error: environmentError(`${where} was deleted while its ephemeral container started`, 'retry on a running pod'),
    };
  const status = pod.status?.ephemeralContainerStatuses?.find((item) => item.name === name);
  if (!status) return { state: 'waiting', detail: 'waiting for the kubelet' };
  const classified = classifyContainerState(status, `ephemeral container ${name} in ${where}`, imageFix);
  return classified ?? { state: 'waiting', detail: status.state?.waiting?.reason ?? 'Waiting' };
}

/**
 * Makes sure an ephemeral container is running in the pod: reuses a running one the predicate accepts, otherwise
 * adds one and waits (watching status.ephemeralContainerStatuses) until it runs.
 */
export async function ensureEphemeralContainer(
  client: KubeClient,
  options: EphemeralContainerOptions,
  wait: WaitOptions,
): Promise<EphemeralContainerHandle> {
  const where = `pod ${options.namespace}/${options.pod}`;
  // The caller's copy when it just read the pod (target resolution): one request fewer before the patch.
  const pod = options.known ?? (await client.readPod(options.namespace, options.pod, { signal: wait.signal }));
  if (pod.status?.phase !== 'Running') {
    throw usageError(
      `${where} is ${pod.status?.phase ?? 'not running'}; ephemeral containers need a running pod`,
      'wait for the pod to be Running or pick another one',
    );
  }
  if (options.reuse) {
    const candidates = ephemeralCandidates(pod).filter((candidate) => options.reuse?.(candidate));
    const existing = candidates.find((candidate) => candidate.running);
    if (existing) return { name: existing.name, reused: true };
    // One like it that cannot pull its image means another would fail the same way, and stay in the pod spec for
    // good (ephemeral containers cannot be removed): report that instead of adding one more.
    for (const candidate of candidates) {
      const status = pod.status?.ephemeralContainerStatuses?.find((item) => item.name === candidate.name);
      const pull =
        status && imagePullFailure(status, `ephemeral container ${candidate.name} in ${where}`, wait.imageFix);
      if (pull) throw pull;
    }
  }
  const name = `${options.namePrefix ?? 'netdiag-'}${randomSuffix()}`;
  const patched = await client.patchEphemeralContainers(
    options.namespace,
    options.pod,
    ephemeralContainerPatch(options, name),
    { signal: wait.signal, onFailure: (failure) => classifyEphemeralPatchFailure(failure, options) },
  );
  const settled = new AbortController();
  const signal = wait.signal ? AbortSignal.any([wait.signal, settled.signal]) : settled.signal;
  const watched = watchUntilRunning(
    client,
    options.namespace,
    options.pod,
    (current) => classifyEphemeralProgress(current, name, where, wait.imageFix),
    { ...wait, signal },
    `ephemeral container ${name} in ${where}`,
    patched,
  );
  try {
    // The watch alone decides failures (image pulls, timeouts, interruptions); the probe can only end it early.
    await (options.readyProbe
      ? Promise.race([watched, probed(client, options, name, options.readyProbe, signal)])
      : watched);
  } finally {
    settled.abort();
    watched.catch(() => undefined);
  }
  return { name, reused: false };
}

/** The ready probe as a race entrant: resolves when it succeeds; an abort (the watch settled, or the run's) never wins. */
async function probed(
  client: KubeClient,
  options: EphemeralContainerOptions,
  container: string,
  command: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  const target = { namespace: options.namespace, pod: options.pod, container };
  if (!(await untilExecSucceeds(client, target, command, signal))) await new Promise<never>(() => undefined);
}
