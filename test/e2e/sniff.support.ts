/**
 * Shared pieces of the sniff end-to-end tests: the cluster from KUBECONFIG (the lab's by default), kubectl, the
 * built CLI spawned like a user runs it, a throwaway namespace with workloads, and the leftover checks.
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
export const env = { ...process.env, KUBECONFIG: kubeconfig };

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

/** A test file's end: its namespaces and scratch directory go, and no netdiag helper pod may be left. */
export function tearDown(scratch: string, namespaces: readonly string[]): void {
  for (const name of namespaces) deleteNamespace(name);
  rmSync(scratch, { recursive: true, force: true });
  assert.deepEqual(managedPods(), [], 'no netdiag helper pod is left');
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

/**
 * A ValidatingAdmissionPolicy (cluster-scoped, named `name`) and its binding that refuse every new ephemeral
 * container in `namespace`: the kind of rule a policy engine enforces and preflight cannot read.
 */
export function noEphemeralContainersPolicy(name: string, namespace: string): string {
  return `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: ${name}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: ["v1"]
        operations: ["UPDATE"]
        resources: ["pods/ephemeralcontainers"]
  validations:
    - expression: "false"
      message: no ephemeral containers in this namespace
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: ${name}
spec:
  policyName: ${name}
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: ${namespace}
`;
}

const DNS_LOOP = 'while true; do nslookup kubernetes.default >/dev/null 2>&1; sleep 0.5; done';

/** The one container of the test workloads, at `indent`: the tools image running `command` with sh. */
function mainContainer(command: string, indent: string): string {
  return [
    '- name: main',
    `  image: ${TOOLS_IMAGE}`,
    '  imagePullPolicy: IfNotPresent',
    `  command: ["sh", "-c", ${JSON.stringify(command)}]`,
  ]
    .map((line) => indent + line)
    .join('\n');
}

/** A pod running a DNS lookup loop (the search-domain expansions show up in a port 53 capture). */
export function dnsLoopPod(
  namespace: string,
  name: string,
  extra: { nodeName?: string; labels?: Record<string, string>; restricted?: boolean } = {},
): string {
  const labels = Object.entries(extra.labels ?? { app: name })
    .map(([k, v]) => `\n    ${k}: ${v}`)
    .join('');
  const security = extra.restricted
    ? `\n  securityContext:\n    runAsNonRoot: true\n    runAsUser: 1000\n    seccompProfile:\n      type: RuntimeDefault`
    : '';
  const containerSecurity = extra.restricted
    ? `\n    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop: ["ALL"]`
    : '';
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${namespace}
  labels:${labels}
spec:${extra.nodeName ? `\n  nodeName: ${extra.nodeName}` : ''}
  terminationGracePeriodSeconds: 1${security}
  containers:
${mainContainer(DNS_LOOP, '  ')}${containerSecurity}
`;
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

/**
 * Sniff helper pods (managed-by netdiag, named netdiag-sniff-*) anywhere in the cluster: none may be left after a
 * run. Other commands' pods (other engineers' tests run at the same time) are not ours to judge.
 */
export function managedPods(): string[] {
  return kubectlOk(['get', 'pods', '-A', '-l', MANAGED, '-o', 'name'])
    .split('\n')
    .filter((name) => name.startsWith('pod/netdiag-sniff-'));
}

/** Names of running netdiag ephemeral containers of a pod. */
export function runningSniffContainers(namespace: string, pod: string): string[] {
  const json = JSON.parse(kubectlOk(['get', 'pod', '-n', namespace, pod, '-o', 'json'])) as {
    status?: { ephemeralContainerStatuses?: { name: string; state?: { running?: object } }[] };
  };
  return (json.status?.ephemeralContainerStatuses ?? [])
    .filter((s) => s.name.startsWith('netdiag-sniff-') && s.state?.running)
    .map((s) => s.name);
}

export function ephemeralCount(namespace: string, pod: string): number {
  return Number(
    kubectlOk(['get', 'pod', '-n', namespace, pod, '-o', 'jsonpath={.spec.ephemeralContainers[*].name}'])
      .split(' ')
      .filter(Boolean).length,
  );
}

/**
 * What upload mode may leave in a container ('' = nothing): its /tmp/netdiag-* directories (the kept tcpdump), running
 * tcpdumps (`... tcpdump -U ...`), and its shell processes (the capture wrapper, the upload's watchdog). The brackets keep the pattern from matching the
 * shell that runs this script.
 */
export function uploadLeftovers(namespace: string, pod: string, container = 'main'): string {
  const script =
    'ls -d /tmp/netdiag-* 2>/dev/null; pgrep -a tcpdump; pgrep -af "netdiag-[u]pload|netdiag-[c]apture"; true';
  return kubectl(['exec', '-n', namespace, pod, '-c', container, '--', 'sh', '-c', script]).stdout.trim();
}

/** tcpdump processes in the pod's netdiag ephemeral containers, via `kubectl exec ... pgrep`. */
export function tcpdumpsInPod(namespace: string, pod: string): string[] {
  const found: string[] = [];
  for (const container of runningSniffContainers(namespace, pod)) {
    const run = kubectl(['exec', '-n', namespace, pod, '-c', container, '--', 'pgrep', '-a', 'tcpdump']);
    if (run.status === 0)
      found.push(
        ...run.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => `${container}: ${l}`),
      );
  }
  return found;
}

/** Processes on this machine whose argv contains `marker` (the lab's nodes are network namespaces of this host). */
export function hostProcesses(marker: string): string[] {
  const run = spawnSync('pgrep', ['-af', marker], { encoding: 'utf8' });
  return (run.stdout ?? '').split('\n').filter((l) => l && !l.includes('pgrep'));
}

export function tshark(args: readonly string[], input?: Buffer): Run {
  const result = spawnSync('tshark', args, { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

export function capinfos(file: string): Run {
  const result = spawnSync('capinfos', [file], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** DNS query names in a capture file. */
export function dnsQueries(file: string): string[] {
  const run = tshark(['-r', file, '-Y', 'dns.flags.response == 0', '-T', 'fields', '-e', 'dns.qry.name']);
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').filter(Boolean);
}
