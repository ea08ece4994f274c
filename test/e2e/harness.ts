/**
 * THE end-to-end harness every suite uses: the cluster from KUBECONFIG (the lab's by default), kubectl, the built CLI
 * run like a user runs it (spawned, or to completion), throwaway namespaces and identities, workloads, tear-down and
 * the leftover checks. Command-specific helpers live next to their suites (sniff.support.ts, faults/).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const kubeconfig = process.env.KUBECONFIG ?? path.join(repoRoot, '.lab', 'kubeconfig');
export const cli = path.join(repoRoot, 'bin', 'kubectl-netdiag');
export const TOOLS_IMAGE = process.env.NETDIAG_TOOLS_IMAGE ?? 'ghcr.io/kubectl-netdiag/tools:0.1.0';
export const MANAGED = 'app.kubernetes.io/managed-by=kubectl-netdiag';
/** The tests' environment: the cluster, and bin/ on PATH so `kubectl netdiag` finds the plugin. */
export const env: NodeJS.ProcessEnv = {
  ...process.env,
  KUBECONFIG: kubeconfig,
  PATH: `${path.dirname(cli)}${path.delimiter}${process.env.PATH ?? ''}`,
};

export function haveCluster(): boolean {
  if (!existsSync(kubeconfig.split(path.delimiter)[0]!)) return false;
  return spawnSync('kubectl', ['get', 'nodes', '-o', 'name'], {
    env,
    encoding: 'utf8',
    timeout: 20_000,
  }).stdout.includes('node/');
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function kubectl(args: readonly string[], input?: string): Run {
  const result = spawnSync('kubectl', args, {
    env,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

export function kubectlOk(args: readonly string[], input?: string): string {
  const result = kubectl(args, input);
  assert.equal(result.status, 0, `kubectl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Runs a program to completion with the tests' environment (plus `extraEnv`). */
export function run(command: string, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Run {
  const result = spawnSync(command, args, {
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Runs the CLI to completion: `kubectl-netdiag ARGS`. */
export const runCli = (args: readonly string[], extraEnv?: NodeJS.ProcessEnv): Run => run(cli, args, extraEnv);

/** Our error convention: an `error: …` line then a `fix: …` line (plain progress lines may precede them). */
export function assertErrorLines(result: Run, exitCode: number, cause: RegExp): void {
  assert.equal(result.status, exitCode, `exit ${result.status}, stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  const at = lines.findIndex((line) => line.startsWith('error: '));
  assert.ok(at >= 0, `no error line in: ${result.stderr}`);
  assert.match(lines[at] ?? '', cause);
  assert.match(lines[at + 1] ?? '', /^fix: /);
}

/** Spawns the CLI like a user: `kubectl-netdiag sniff ...`, stdout/stderr collected. */
export function netdiag(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdout?: 'pipe' | 'ignore'; cwd?: string } = {},
): {
  child: ChildProcess;
  done: Promise<Run>;
  stderrSoFar: () => string;
} {
  const child = spawn(cli, args, {
    cwd: options.cwd,
    env: { ...env, ...options.env },
    stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return { child, done, stderrSoFar: () => stderr };
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const suffix = (): string => randomBytes(3).toString('hex');

/** Creates a namespace (optionally with a PodSecurity enforce level) and returns its name. */
export function createNamespace(prefix: string, level?: 'baseline' | 'restricted'): string {
  const name = `${prefix}-${suffix()}`;
  const labels = level ? `\n  labels:\n    pod-security.kubernetes.io/enforce: ${level}` : '';
  kubectlOk(['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}${labels}\n`);
  return name;
}

export function deleteNamespace(name: string): void {
  kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
}

/**
 * Helper pods (managed-by netdiag) in `namespace` (default: anywhere) whose name starts with `namePrefix`. A suite
 * passes its own prefix or namespace so other suites running at the same time are not judged.
 */
export function managedPods(namePrefix = 'netdiag-', namespace?: string): string[] {
  return kubectlOk(['get', 'pods', ...(namespace ? ['-n', namespace] : ['-A']), '-l', MANAGED, '-o', 'name'])
    .split('\n')
    .filter((name) => name.startsWith(`pod/${namePrefix}`));
}

/** A test file's end: its namespaces and scratch directory go, and none of its helper pods may be left. */
export function tearDown(scratch: string, namespaces: readonly string[], namePrefix = 'netdiag-'): void {
  for (const name of namespaces) deleteNamespace(name);
  rmSync(scratch, { recursive: true, force: true });
  assert.deepEqual(managedPods(namePrefix), [], 'no netdiag helper pod is left');
}

/** One RBAC rule of a test identity: verbs on a pods resource or subresource (`pods`, `pods/exec`, ...). */
export interface PodRule {
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/**
 * A kubeconfig (written into `scratch`) for a fresh ServiceAccount of `namespace` that may do only `rules` there (a
 * Role, no cluster-wide access): the locked-down user of a real cluster, made on any cluster from KUBECONFIG with a
 * TokenRequest. Everything lives in the namespace, so deleting it removes the identity too.
 */
export function namespacedIdentity(
  scratch: string,
  namespace: string,
  name: string,
  rules: readonly PodRule[],
): string {
  const role = rules
    .map((r) => `- apiGroups: [""]\n  resources: ${JSON.stringify(r.resources)}\n  verbs: ${JSON.stringify(r.verbs)}`)
    .join('\n');
  kubectlOk(
    ['apply', '-f', '-'],
    [
      `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ${name}, namespace: ${namespace}}`,
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: ${name}, namespace: ${namespace}}\nrules:\n${role}`,
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ${name}, namespace: ${namespace}}\n` +
        `roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${name}}\n` +
        `subjects: [{kind: ServiceAccount, name: ${name}, namespace: ${namespace}}]`,
    ].join('\n---\n'),
  );
  const token = kubectlOk(['create', 'token', '-n', namespace, name, '--duration', '1h']).trim();
  const current = parseYaml(kubectlOk(['config', 'view', '--raw', '--minify', '--flatten'])) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
  };
  const file = path.join(scratch, `${namespace}-${name}.kubeconfig`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: current.clusters,
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: current.clusters[0]!.name, user: name, namespace } }],
    'current-context': name,
  };
  writeFileSync(file, toYaml(config), { mode: 0o600 });
  return file;
}

/** A shell loop of DNS lookups: traffic to capture, a workload that never ends by itself. */
export const DNS_LOOP = 'while true; do nslookup kubernetes.default >/dev/null 2>&1; sleep 0.5; done';

/** The one container of the test workloads, at `indent`: the tools image running `command` with sh. */
export function mainContainer(command: string, indent: string): string {
  return [
    '- name: main',
    `  image: ${TOOLS_IMAGE}`,
    '  imagePullPolicy: IfNotPresent',
    `  command: ["sh", "-c", ${JSON.stringify(command)}]`,
  ]
    .map((line) => indent + line)
    .join('\n');
}

/** A bare pod of the tools image running `command` with sh, labelled app=NAME. */
export function commandPod(namespace: string, name: string, command: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}, labels: {app: ${name}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
${mainContainer(command, '  ')}
`;
}

export function deployment(namespace: string, name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
${mainContainer(DNS_LOOP, '      ')}
`;
}

export function waitPodsReady(namespace: string, selector: string, count: number): void {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const out = kubectl([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      selector,
      '-o',
      'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}',
    ]).stdout;
    if (out.split('\n').filter((l) => l === 'Running').length >= count) return;
    if (Date.now() > deadline)
      throw new Error(
        `pods ${selector} in ${namespace} not running: ${kubectl(['get', 'pods', '-n', namespace, '-o', 'wide']).stdout}`,
      );
    spawnSync('sleep', ['1']);
  }
}

/** Processes on this machine whose argv contains `marker` (the lab's nodes are network namespaces of this host). */
export function hostProcesses(marker: string): string[] {
  const run = spawnSync('pgrep', ['-af', marker], { encoding: 'utf8' });
  return (run.stdout ?? '').split('\n').filter((l) => l && !l.includes('pgrep'));
}
