/**
 * What the lab's acceptance tests share: where the lab is, running its script and kubectl, and tools pods
 * pinned to nodes. The lab is the one in NETDIAG_LAB_STATE when that is set (a worktree driving the shared
 * lab, as docs/DEVELOPERS.md says), else the checkout's own `.lab`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const repo = path.resolve(import.meta.dirname, '../../..');
export const labScript = path.join(repo, 'scripts/lab/lab');
export const labState = process.env.NETDIAG_LAB_STATE ?? path.join(repo, '.lab');
export const kubeconfig = path.join(labState, 'kubeconfig');
export const toolsImage = 'ghcr.io/kubectl-netdiag/tools:0.1.0';

export const skipUnlessLab =
  !existsSync(kubeconfig) || process.getuid?.() !== 0 ? 'needs root and a running lab (scripts/lab/lab up)' : false;

export function run(cmd: string, args: string[], timeoutMs = 120_000): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}
export const kubectl = (...args: string[]): string => run('kubectl', ['--kubeconfig', kubeconfig, ...args]);
export const lab = (...args: string[]): string => run('bash', [labScript, ...args], 600_000);

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the whole command, kubectl exec included. */
  ms: number;
}

/** Runs a command and returns its exit code and output instead of throwing. */
export function tryRun(cmd: string, args: string[], timeoutMs = 120_000): Outcome {
  const started = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

/**
 * Runs a command in a pod. Its stdout is kept apart from stderr: kubectl writes its own client noise there
 * (e.g. klog's "Unknown stream id 1, discarding message" from the WebSocket exec client), which must not
 * reach the assertions.
 */
export const tryInPod = (ns: string, pod: string, ...cmd: string[]): Outcome =>
  tryRun('kubectl', ['--kubeconfig', kubeconfig, '-n', ns, 'exec', pod, '--', ...cmd]);

export const podIP = (ns: string, pod: string): string =>
  kubectl('-n', ns, 'get', 'pod', pod, '-o', 'jsonpath={.status.podIP}');

/** The Ready nodes' names, sorted (worker1.kube.local, worker2.kube.local, ...). */
export function readyNodes(): string[] {
  const out = kubectl('get', 'nodes', '--no-headers');
  return out
    .split('\n')
    .filter((line) => /\sReady\s/.test(line))
    .map((line) => line.split(/\s+/)[0] ?? '')
    .sort();
}

/** Creates a tools pod pinned to a node, running `script` in sh. Does not wait for it. */
export function createToolsPod(ns: string, name: string, node: string, labels: Record<string, string>, script: string) {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 0,
      containers: [
        { name: 'tools', image: toolsImage, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script] },
      ],
    },
  };
  execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], { input: JSON.stringify(manifest) });
}

/** One tools pod per node (`tools-1` on the first node, ...), Ready. */
export function toolsPodPerNode(ns: string, nodes: string[], script: string): void {
  for (const [i, node] of nodes.entries()) createToolsPod(ns, `tools-${i + 1}`, node, { app: 'lab-test' }, script);
  kubectl('-n', ns, 'wait', '--for=condition=Ready', 'pod', '-l', 'app=lab-test', '--timeout=120s');
}
