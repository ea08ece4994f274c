/**
 * Preflight: before a command creates anything, ask the API server (SelfSubjectAccessReview) whether every verb it
 * needs is allowed, and read the namespace's PodSecurity enforce level. A missing permission is reported with the
 * exact verb/resource and a Role that grants it.
 */
import { stringify as toYaml } from 'yaml';
import { environmentError, type NetdiagError, usageError } from '../lib/errors.js';
import type { CallOptions, KubeClient } from './client.js';

/** One permission a command needs. `namespace` undefined = cluster-scoped (nodes, namespaces). */
export interface AccessRequirement {
  readonly verb: string;
  readonly resource: string;
  readonly subresource?: string;
  /** API group; '' (core) when omitted. */
  readonly group?: string;
  readonly namespace?: string;
}

/**
 * What exec into pods of `namespace` needs. Our exec is WebSocket only (client-node), an upgraded GET: the API
 * server checks `get` on pods/exec, and `create` too where AuthorizePodWebsocketUpgradeCreatePermission is on
 * (default since 1.35). Roles written for SPDY grant only `create`; kubectl falls back to SPDY with them, we cannot.
 */
export function execRequirements(namespace: string): AccessRequirement[] {
  return ['get', 'create'].map((verb) => ({ verb, resource: 'pods', subresource: 'exec', namespace }));
}

export const PodSecurityLevels = ['privileged', 'baseline', 'restricted'] as const;
export type PodSecurityLevel = (typeof PodSecurityLevels)[number];
export const POD_SECURITY_ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

export interface PodSecurityInfo {
  readonly namespace: string;
  readonly level: PodSecurityLevel;
  /** False when the namespace could not be read; `level` is then an assumption stated in `note`. */
  readonly known: boolean;
  readonly note?: string;
}

/** `resource/subresource` as RBAC and kubectl spell it. */
export const resourceName = (req: AccessRequirement): string =>
  req.subresource ? `${req.resource}/${req.subresource}` : req.resource;

/** The PodSecurity enforce level from namespace labels: absent means privileged (nothing enforced). Pure. */
export function podSecurityLevel(labels: Readonly<Record<string, string>> | undefined): PodSecurityLevel {
  const value = labels?.[POD_SECURITY_ENFORCE_LABEL];
  return PodSecurityLevels.find((level) => level === value) ?? 'privileged';
}

/** What a pod or ephemeral container asks for, to compare with a PodSecurity level. */
export interface SecurityNeeds {
  readonly privileged?: boolean;
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly hostPath?: boolean;
  readonly capabilities?: readonly string[];
  /** Runs as root / without the restricted-profile settings (every tools container does). */
  readonly runsAsRoot?: boolean;
}

/** Capabilities the baseline profile allows a container to add (Kubernetes Pod Security Standards). */
export const BASELINE_ALLOWED_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** Which of `needs` the level forbids (empty = allowed). Pure; used by commands to choose a mode before trying. */
export function podSecurityViolations(level: PodSecurityLevel, needs: SecurityNeeds): string[] {
  if (level === 'privileged') return [];
  const violations: string[] = [];
  if (needs.privileged) violations.push('privileged');
  if (needs.hostNetwork) violations.push('hostNetwork');
  if (needs.hostPID) violations.push('hostPID');
  if (needs.hostPath) violations.push('hostPath volumes');
  const extra = (needs.capabilities ?? []).filter((cap) =>
    level === 'restricted' ? cap !== 'NET_BIND_SERVICE' : !BASELINE_ALLOWED_CAPABILITIES.has(cap),
  );
  if (extra.length > 0) violations.push(`capabilities ${extra.join(',')}`);
  if (level === 'restricted' && needs.runsAsRoot) violations.push('running as root');
  return violations;
}

/** A Role (or ClusterRole for cluster-scoped needs) granting exactly the missing permissions. Pure. */
export function roleSnippet(missing: readonly AccessRequirement[], namespace: string): string {
  const rules = (reqs: readonly AccessRequirement[]) => {
    const grouped = new Map<string, { apiGroups: string[]; resources: string[]; verbs: string[] }>();
    for (const req of reqs) {
      const key = `${req.group ?? ''}|${resourceName(req)}`;
      const rule = grouped.get(key) ?? { apiGroups: [req.group ?? ''], resources: [resourceName(req)], verbs: [] };
      if (!rule.verbs.includes(req.verb)) rule.verbs.push(req.verb);
      grouped.set(key, rule);
    }
    return [...grouped.values()];
  };
  const namespaced = missing.filter((req) => req.namespace !== undefined);
  const clusterScoped = missing.filter((req) => req.namespace === undefined);
  const docs: object[] = [];
  if (namespaced.length > 0) {
    docs.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'kubectl-netdiag', namespace },
      rules: rules(namespaced),
    });
  }
  if (clusterScoped.length > 0) {
    docs.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'kubectl-netdiag' },
      rules: rules(clusterScoped),
    });
  }
  return docs.map((doc) => toYaml(doc)).join('---\n');
}

/** The error for missing permissions: every missing verb/resource in the cause, the Role YAML as detail. Pure. */
export function missingPermissionError(
  missing: readonly AccessRequirement[],
  namespace: string,
  who: string,
): NetdiagError {
  const list = missing.map(
    (req) =>
      `${req.verb} ${resourceName(req)}${req.namespace !== undefined ? ` in namespace "${req.namespace}"` : ' (cluster-wide)'}`,
  );
  return environmentError(
    `${who} is not allowed to ${list.join('; ')}`,
    'ask a cluster admin to bind a Role like this one (docs/rbac.yaml has the full set):',
    { detail: roleSnippet(missing, namespace) },
  );
}

/** Checks every requirement with a SelfSubjectAccessReview (in parallel) and returns the denied ones. */
export async function findMissingPermissions(
  client: KubeClient,
  requirements: readonly AccessRequirement[],
  options?: CallOptions,
): Promise<AccessRequirement[]> {
  const answers = await Promise.all(
    requirements.map(async (req) => {
      const review = await client.canI(
        {
          verb: req.verb,
          resource: req.resource,
          subresource: req.subresource,
          group: req.group ?? '',
          namespace: req.namespace,
        },
        options,
      );
      return { req, allowed: review.allowed };
    }),
  );
  return answers.filter((answer) => !answer.allowed).map((answer) => answer.req);
}

/** Reads the PodSecurity enforce level; a namespace we may not read is assumed privileged and says so. */
export async function readPodSecurity(
  client: KubeClient,
  namespace: string,
  options?: CallOptions,
): Promise<PodSecurityInfo> {
  let forbidden = false;
  try {
    const ns = await client.readNamespace(namespace, {
      ...options,
      onFailure: (failure) => {
        if (failure.kind === 'not-found')
          return usageError(
            `namespace "${namespace}" not found`,
            'list namespaces with `kubectl get namespaces` and pass -n',
          );
        if (failure.kind === 'forbidden') {
          forbidden = true;
          return environmentError('forbidden', '');
        }
        return undefined;
      },
    });
    return { namespace, level: podSecurityLevel(ns.metadata?.labels), known: true };
  } catch (err) {
    if (!forbidden) throw err;
    return {
      namespace,
      level: 'privileged',
      known: false,
      note: `cannot read namespace "${namespace}" to learn its PodSecurity level; assuming privileged (admission will tell if not)`,
    };
  }
}

export interface PreflightResult {
  readonly podSecurity: PodSecurityInfo;
}

/**
 * Runs the preflight: throws a missing-permission error (exit 3) naming every denied verb/resource with a Role
 * snippet, else returns the namespace's PodSecurity level.
 */
export async function preflight(
  client: KubeClient,
  requirements: readonly AccessRequirement[],
  namespace: string,
  options?: CallOptions,
): Promise<PreflightResult> {
  const missing = await findMissingPermissions(client, requirements, options);
  if (missing.length > 0) {
    throw missingPermissionError(
      missing,
      namespace,
      `user "${client.selection.userName || '(anonymous)'}" of context "${client.contextName}"`,
    );
  }
  return { podSecurity: await readPodSecurity(client, namespace, options) };
}
