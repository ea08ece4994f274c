import { environmentError, usageError } from '../lib/errors.js';
import { profileSecurityNeeds } from '../kube/fleet.js';
import { podSecurityViolations, type PodSecurityLevel, type SecurityNeeds } from '../kube/preflight.js';
import { SNIFF_NODE_PROFILE } from './node-profile.js';

export type CaptureMode = 'ephemeral' | 'node' | 'upload';
export type RequestedMode = CaptureMode | 'auto';

/** The order `--mode auto` tries: ephemeral leaves the target untouched, node needs a privileged helper pod,
 * upload writes a binary into the target container and is the last resort. */
export const AUTO_ORDER: readonly CaptureMode[] = ['ephemeral', 'node', 'upload'];

/** What preflight learned, reduced to what mode selection needs. Every field comes from the API, never guessed. */
export interface ModeFacts {
  /** Capturing `node/NAME` (the host network namespace): only node mode can. */
  readonly nodeTarget: boolean;
  /** SelfSubjectAccessReview answers for the target namespaces and the helper namespace. */
  readonly allowed: {
    readonly getPods: boolean;
    readonly patchEphemeralContainers: boolean;
    /** Exec over WebSocket (all client-node has) is an upgraded GET: the API server checks `get` on pods/exec, and
     * with AuthorizePodWebsocketUpgradeCreatePermission (on by default since 1.35) `create` as well. */
    readonly getExec: boolean;
    readonly createExec: boolean;
    readonly createHelperPods: boolean;
    readonly deleteHelperPods: boolean;
  };
  /** False when the API server has no ephemeral containers (older than 1.25 or the subresource is missing). */
  readonly ephemeralContainersSupported: boolean;
  /** The strictest PodSecurity `enforce` level among the target namespaces. */
  readonly targetPodSecurity: PodSecurityLevel;
  /** PodSecurity `enforce` level of the namespace where node-mode helper pods go. */
  readonly helperPodSecurity: PodSecurityLevel;
  /** The namespace where node-mode helper pods go (for messages). */
  readonly helperNamespace: string;
  /** Why the target containers cannot capture for themselves (non-root, NET_RAW dropped), if the spec says so. */
  readonly targetCannotCapture: string | undefined;
  /** Modes the cluster's admission refused when this run tried them (policies preflight cannot see), with why. */
  readonly refused?: Readonly<Partial<Record<CaptureMode, string>>>;
}

/** How an ephemeral container asks for capture privileges, depending on what PodSecurity allows. */
export type EphemeralPrivileges = 'net-raw-net-admin' | 'runtime-default';

export interface ModeChoice {
  readonly mode: CaptureMode;
  /** For ephemeral mode: add NET_RAW+NET_ADMIN, or rely on the runtime's default set (baseline forbids adding). */
  readonly privileges: EphemeralPrivileges;
  /** One line for the user: which mode and why. */
  readonly reason: string;
}

function execBlocker(allowed: ModeFacts['allowed']): string | undefined {
  if (!allowed.getExec && !allowed.createExec) return 'RBAC: you may not get or create pods/exec';
  if (!allowed.getExec) return 'RBAC: you may not get pods/exec (exec over WebSocket needs get as well as create)';
  if (!allowed.createExec) return 'RBAC: you may not create pods/exec';
  return undefined;
}

/** Why a mode cannot work, or undefined when preflight says it will. */
export function modeBlocker(mode: CaptureMode, facts: ModeFacts): string | undefined {
  const { allowed } = facts;
  const execBlocked = execBlocker(allowed);
  const refused = facts.refused?.[mode];
  if (refused !== undefined) return `admission refused it: ${refused}`;
  if (facts.nodeTarget && mode !== 'node') return 'a node target is captured from a hostNetwork helper pod (node mode)';
  if (!allowed.getPods) return 'RBAC: you may not get pods';
  switch (mode) {
    case 'ephemeral':
      if (!facts.ephemeralContainersSupported)
        return 'the API server has no ephemeral containers (Kubernetes < 1.25 or disabled)';
      if (!allowed.patchEphemeralContainers) return 'RBAC: you may not patch pods/ephemeralcontainers';
      if (execBlocked) return execBlocked;
      {
        const forbidden = podSecurityViolations(facts.targetPodSecurity, ephemeralNeeds(facts.targetPodSecurity));
        if (forbidden.length > 0)
          return `PodSecurity "${facts.targetPodSecurity}" forbids the capture container (${forbidden.join(', ')})`;
      }
      return undefined;
    case 'node':
      if (!allowed.createHelperPods) return `RBAC: you may not create pods in namespace ${facts.helperNamespace}`;
      if (!allowed.deleteHelperPods) return `RBAC: you may not delete pods in namespace ${facts.helperNamespace}`;
      if (execBlocked) return execBlocked;
      {
        // The same profile builds the helper pod (src/sniff/node-profile.ts), so this cannot disagree with it.
        const forbidden = podSecurityViolations(facts.helperPodSecurity, profileSecurityNeeds(SNIFF_NODE_PROFILE));
        if (forbidden.length > 0)
          return `PodSecurity "${facts.helperPodSecurity}" on namespace ${facts.helperNamespace} forbids the node-mode helper pod (${forbidden.join(', ')})`;
      }
      return undefined;
    case 'upload':
      if (execBlocked) return execBlocked;
      if (facts.targetCannotCapture !== undefined) return facts.targetCannotCapture;
      return undefined;
  }
}

function privilegesFor(level: PodSecurityLevel): EphemeralPrivileges {
  return level === 'privileged' ? 'net-raw-net-admin' : 'runtime-default';
}

/** What the ephemeral capture container asks of PodSecurity at `level`: root, plus NET_RAW/NET_ADMIN where allowed. */
export function ephemeralNeeds(level: PodSecurityLevel): SecurityNeeds {
  return {
    capabilities: privilegesFor(level) === 'net-raw-net-admin' ? ['NET_RAW', 'NET_ADMIN'] : [],
    runsAsRoot: true,
  };
}

function ephemeralReason(facts: ModeFacts): string {
  return facts.targetPodSecurity === 'privileged'
    ? 'ephemeral container with NET_RAW and NET_ADMIN added'
    : `ephemeral container with the runtime's default capabilities (PodSecurity "${facts.targetPodSecurity}" forbids adding NET_RAW/NET_ADMIN)`;
}

/**
 * Picks the capture mode. An explicit mode that preflight says cannot work fails with the reason and the modes that
 * would work; `auto` takes the first of {@link AUTO_ORDER} that will work and says why the earlier ones were skipped.
 */
export function selectMode(requested: RequestedMode, facts: ModeFacts): ModeChoice {
  const privileges = privilegesFor(facts.targetPodSecurity);
  const describe = (mode: CaptureMode): string =>
    mode === 'ephemeral'
      ? ephemeralReason(facts)
      : mode === 'node'
        ? `privileged helper pod in ${facts.helperNamespace} on the target's node`
        : 'static tcpdump uploaded into the target container';
  const workingModes = AUTO_ORDER.filter((mode) => modeBlocker(mode, facts) === undefined);

  if (requested !== 'auto') {
    const blocker = modeBlocker(requested, facts);
    if (blocker !== undefined) {
      const fix =
        workingModes.length > 0 ? `use --mode ${workingModes[0]} (preflight says it will work)` : noModeFix(facts);
      // A node target with another mode is a usage mistake; everything else is the cluster saying no.
      if (facts.nodeTarget)
        throw usageError(`--mode ${requested} cannot capture a node: ${blocker}`, 'use --mode node or -p');
      throw environmentError(`--mode ${requested} will not work: ${blocker}`, fix);
    }
    return { mode: requested, privileges, reason: `${requested} mode (requested): ${describe(requested)}` };
  }

  const skipped: string[] = [];
  for (const mode of AUTO_ORDER) {
    const blocker = modeBlocker(mode, facts);
    if (blocker === undefined) {
      const why = skipped.length > 0 ? `; skipped ${skipped.join('; ')}` : '';
      return { mode, privileges, reason: `${mode} mode: ${describe(mode)}${why}` };
    }
    if (!facts.nodeTarget || mode === 'node') skipped.push(`${mode} (${blocker})`);
  }
  throw environmentError(`no capture mode will work: ${skipped.join('; ')}`, noModeFix(facts));
}

function noModeFix(facts: ModeFacts): string {
  if (!facts.allowed.getPods) return 'ask for get/list/watch on pods in the target namespace';
  return 'ask for patch on pods/ephemeralcontainers and get+create on pods/exec, or create/delete on pods in a privileged namespace for node mode (docs/rbac.yaml)';
}
