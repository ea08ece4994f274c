/**
 * Kubeconfig loading and merging the way kubectl does it (client-go's loading rules), as pure functions over parsed
 * YAML so every rule is unit-tested. `client.ts` hands the result to @kubernetes/client-node.
 *
 * Rules implemented:
 * - `--kubeconfig FILE` wins and must exist; otherwise `KUBECONFIG` (path-list, missing files skipped, at least one
 *   must exist); otherwise `~/.kube/config`; otherwise, inside a pod, its service account.
 * - Merging: for every named cluster/user/context the FIRST file that defines it wins; `current-context` comes from
 *   the first file that sets it.
 * - Relative file references (certificate-authority, client-certificate, client-key, tokenFile, exec command with a
 *   slash) are resolved against the directory of the file that defined the entry.
 * - `--context` picks the context; `--cluster` / `--user` replace the context's cluster / user; `-n` replaces its
 *   namespace, which otherwise comes from the context and then defaults to `default`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { environmentError, usageError } from '../lib/errors.js';

/** What a user says about cluster access: the global flags, validated. Engines receive it, never flag strings. */
export interface KubeAccessOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly cluster?: string;
  readonly user?: string;
  readonly namespace?: string;
  /** Per-request timeout in ms; 0 = none (kubectl `--request-timeout`). */
  readonly requestTimeoutMs: number;
}

type RawRecord = Record<string, unknown>;

export interface NamedEntry {
  readonly name: string;
  readonly value: RawRecord;
}

export interface MergedKubeconfig {
  readonly files: readonly string[];
  readonly clusters: readonly NamedEntry[];
  readonly users: readonly NamedEntry[];
  readonly contexts: readonly NamedEntry[];
  readonly currentContext: string | undefined;
}

export interface KubeconfigSource {
  /** Files to load, in precedence order (for `in-cluster`: the service account directory). */
  readonly paths: readonly string[];
  /** Where the list came from, for error messages. */
  readonly origin: 'flag' | 'env' | 'default' | 'in-cluster';
}

/** Where a pod's service account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Which kubeconfig to load: `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`, else — like kubectl inside a
 * pod — the pod's service account when `KUBERNETES_SERVICE_HOST` is set and its token is mounted.
 */
export function kubeconfigSource(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  home: string,
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): KubeconfigSource {
  if (flag) return { paths: [flag], origin: 'flag' };
  const list = env.KUBECONFIG;
  if (list && list.length > 0) {
    const paths = list.split(path.delimiter).filter((entry) => entry.length > 0);
    // kubectl deduplicates the list, keeping the first occurrence.
    return { paths: [...new Set(paths)], origin: 'env' };
  }
  const defaultFile = path.join(home, '.kube', 'config');
  if (!existsSync(defaultFile) && env.KUBERNETES_SERVICE_HOST && existsSync(path.join(serviceAccountDir, 'token'))) {
    return { paths: [serviceAccountDir], origin: 'in-cluster' };
  }
  return { paths: [defaultFile], origin: 'default' };
}

/** A kubeconfig document for the pod's service account (server from KUBERNETES_SERVICE_HOST/PORT). */
export function inClusterDocument(env: NodeJS.ProcessEnv, serviceAccountDir: string): RawRecord {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const namespaceFile = path.join(serviceAccountDir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  return {
    clusters: [
      { name: 'in-cluster', cluster: { server, 'certificate-authority': path.join(serviceAccountDir, 'ca.crt') } },
    ],
    users: [{ name: 'service-account', user: { tokenFile: path.join(serviceAccountDir, 'token') } }],
    contexts: [
      {
        name: 'in-cluster',
        context: { cluster: 'in-cluster', user: 'service-account', ...(namespace ? { namespace } : {}) },
      },
    ],
    'current-context': 'in-cluster',
  };
}

/** Reads the files of a source; missing files are an error only when none is usable or when named by --kubeconfig. */
export function readKubeconfigFiles(
  source: KubeconfigSource,
  env: NodeJS.ProcessEnv = process.env,
): { path: string; text: string }[] {
  const fix = 'pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config';
  if (source.origin === 'in-cluster') {
    const dir = source.paths[0] ?? SERVICE_ACCOUNT_DIR;
    // JSON is YAML; the entry's "path" only names the origin in messages (its file references are absolute).
    return [{ path: `${dir} (in-cluster service account)`, text: JSON.stringify(inClusterDocument(env, dir)) }];
  }
  if (source.origin === 'flag') {
    const file = source.paths[0] ?? '';
    if (!existsSync(file)) throw environmentError(`kubeconfig ${file} does not exist (from --kubeconfig)`, fix);
  }
  const found = source.paths.filter((file) => existsSync(file));
  if (found.length === 0) {
    const where = source.origin === 'env' ? `KUBECONFIG=${source.paths.join(path.delimiter)}` : source.paths.join(', ');
    throw environmentError(`no kubeconfig found (${where})`, fix);
  }
  return found.map((file) => {
    try {
      return { path: file, text: readFileSync(file, 'utf8') };
    } catch (err) {
      throw environmentError(`cannot read kubeconfig ${file}: ${(err as Error).message}`, 'check the file permissions');
    }
  });
}

const asRecord = (value: unknown): RawRecord =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as RawRecord) : {};

function resolveFileFields(record: RawRecord, fields: readonly string[], dir: string): RawRecord {
  const copy: RawRecord = { ...record };
  for (const field of fields) {
    const value = copy[field];
    if (typeof value === 'string' && value.length > 0 && !path.isAbsolute(value)) copy[field] = path.join(dir, value);
  }
  return copy;
}

function resolveUserPaths(user: RawRecord, dir: string): RawRecord {
  const resolved = resolveFileFields(user, ['client-certificate', 'client-key', 'tokenFile'], dir);
  const exec = asRecord(user.exec);
  const command = exec.command;
  // Like client-go: a bare command name is looked up on PATH; a relative path is relative to the kubeconfig.
  if (typeof command === 'string' && command.includes('/') && !path.isAbsolute(command)) {
    resolved.exec = { ...exec, command: path.join(dir, command) };
  }
  return resolved;
}

function namedEntries(list: unknown, key: 'cluster' | 'user' | 'context', file: string, dir: string): NamedEntry[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw environmentError(`kubeconfig ${file}: "${key}s" is not a list`, `fix the file`);
  return list.map((item) => {
    const entry = asRecord(item);
    const name = entry.name;
    if (typeof name !== 'string' || name.length === 0) {
      throw environmentError(`kubeconfig ${file}: a ${key} entry has no name`, 'fix the file');
    }
    const value = asRecord(entry[key]);
    if (key === 'cluster') return { name, value: resolveFileFields(value, ['certificate-authority'], dir) };
    if (key === 'user') return { name, value: resolveUserPaths(value, dir) };
    return { name, value };
  });
}

/** Parses and merges kubeconfig documents in precedence order (first wins). */
export function mergeKubeconfigs(files: readonly { path: string; text: string }[]): MergedKubeconfig {
  const clusters = new Map<string, NamedEntry>();
  const users = new Map<string, NamedEntry>();
  const contexts = new Map<string, NamedEntry>();
  let currentContext: string | undefined;
  for (const file of files) {
    let doc: RawRecord;
    try {
      doc = asRecord(parseYaml(file.text));
    } catch (err) {
      throw environmentError(
        `kubeconfig ${file.path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
        'fix the file',
      );
    }
    const dir = path.dirname(path.resolve(file.path));
    const add = (target: Map<string, NamedEntry>, entries: NamedEntry[]) => {
      for (const entry of entries) if (!target.has(entry.name)) target.set(entry.name, entry);
    };
    add(clusters, namedEntries(doc.clusters, 'cluster', file.path, dir));
    add(users, namedEntries(doc.users, 'user', file.path, dir));
    add(contexts, namedEntries(doc.contexts, 'context', file.path, dir));
    const current = doc['current-context'];
    if (currentContext === undefined && typeof current === 'string' && current.length > 0) currentContext = current;
  }
  return {
    files: files.map((file) => file.path),
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  };
}

export interface AccessSelection {
  readonly contextName: string;
  readonly clusterName: string;
  readonly userName: string;
  readonly cluster: RawRecord;
  readonly user: RawRecord;
  readonly namespace: string;
  /** Where the namespace came from, so errors can say "from your context". */
  readonly namespaceOrigin: 'flag' | 'context' | 'default';
  /** The API server URL, for "cannot reach <url>" messages. */
  readonly server: string;
}

const names = (entries: readonly NamedEntry[]): string =>
  entries.length === 0 ? '(none)' : entries.map((entry) => entry.name).join(', ');

/** Applies --context/--cluster/--user/-n to a merged kubeconfig. Unknown names are bad input (exit 2). */
export function selectAccess(
  merged: MergedKubeconfig,
  overrides: Pick<KubeAccessOptions, 'context' | 'cluster' | 'user' | 'namespace'>,
): AccessSelection {
  const contextName = overrides.context ?? merged.currentContext;
  if (!contextName) {
    throw environmentError(
      `no current context in ${merged.files.join(', ')}`,
      `pass --context (one of: ${names(merged.contexts)}) or run \`kubectl config use-context NAME\``,
    );
  }
  const context = merged.contexts.find((entry) => entry.name === contextName);
  if (!context) {
    const origin = overrides.context ? '' : ' (current-context)';
    throw usageError(
      `context "${contextName}"${origin} not found in ${merged.files.join(', ')}`,
      `use one of: ${names(merged.contexts)}`,
    );
  }
  const clusterName = overrides.cluster ?? (typeof context.value.cluster === 'string' ? context.value.cluster : '');
  const cluster = merged.clusters.find((entry) => entry.name === clusterName);
  if (!cluster) {
    if (overrides.cluster)
      throw usageError(`cluster "${clusterName}" not found in kubeconfig`, `use one of: ${names(merged.clusters)}`);
    throw environmentError(
      `context "${contextName}" refers to cluster "${clusterName}", which is not in the kubeconfig`,
      `fix the kubeconfig or pass --cluster (one of: ${names(merged.clusters)})`,
    );
  }
  const userName = overrides.user ?? (typeof context.value.user === 'string' ? context.value.user : '');
  const user = merged.users.find((entry) => entry.name === userName);
  if (!user && overrides.user)
    throw usageError(`user "${userName}" not found in kubeconfig`, `use one of: ${names(merged.users)}`);
  const server = cluster.value.server;
  if (typeof server !== 'string' || server.length === 0) {
    throw environmentError(
      `cluster "${clusterName}" has no server URL in the kubeconfig`,
      'set clusters[].cluster.server',
    );
  }
  const contextNamespace =
    typeof context.value.namespace === 'string' && context.value.namespace.length > 0
      ? context.value.namespace
      : undefined;
  const namespace = overrides.namespace ?? contextNamespace ?? 'default';
  const namespaceOrigin = overrides.namespace ? 'flag' : contextNamespace ? 'context' : 'default';
  // A context may legitimately have no user (anonymous access); client-node needs an entry, so use an empty one.
  return {
    contextName,
    clusterName,
    userName,
    cluster: cluster.value,
    user: user?.value ?? {},
    namespace,
    namespaceOrigin,
    server,
  };
}

/**
 * A kubeconfig document with exactly the selected cluster, user and context, ready for client-node's loader.
 * kubectl spells the token file `tokenFile`; client-node reads `token-file`.
 */
export function singleContextDocument(selection: AccessSelection): RawRecord {
  const user: RawRecord = { ...selection.user };
  if (typeof user.tokenFile === 'string' && user['token-file'] === undefined) user['token-file'] = user.tokenFile;
  const userName = selection.userName || 'netdiag-anonymous';
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: selection.clusterName, cluster: selection.cluster }],
    users: [{ name: userName, user }],
    contexts: [
      {
        name: selection.contextName,
        context: { cluster: selection.clusterName, user: userName, namespace: selection.namespace },
      },
    ],
    'current-context': selection.contextName,
  };
}
