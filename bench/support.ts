/**
 * What the diagnosis benchmarks share: the CLI run as a user runs it against KUBECONFIG (the lab by default) with
 * `-v`, timed, its `api requests: N` line read, and the median of rounds.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const kubeconfig = process.env.KUBECONFIG ?? path.join(root, '.lab', 'kubeconfig');
const env = { ...process.env, KUBECONFIG: kubeconfig };
const cli = process.env.BENCH_CLI ?? path.join(root, 'bin', 'kubectl-netdiag');

export const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

export interface BenchRun {
  readonly ms: number;
  readonly requests: number;
  readonly status: number | null;
  readonly stdout: string;
}

/** `kubectl-netdiag ARGS -v`, timed; exit 0 and 1 are results (1: a finding failed), anything else rejects. */
export function runNetdiag(args: readonly string[]): Promise<BenchRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cli, [...args, '-v'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      const ms = performance.now() - started;
      const requests = /api requests: (\d+)/.exec(stderr);
      if (status !== 0 && status !== 1) reject(new Error(`${args[0]} exited ${status}: ${stderr.slice(-1500)}`));
      else resolve({ ms, requests: requests ? Number(requests[1]) : NaN, status, stdout });
    });
  });
}

export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/** The cluster's node names. */
export const clusterNodes = (): string[] =>
  spawnSync('kubectl', ['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'], { env, encoding: 'utf8' })
    .stdout.split(' ')
    .filter(Boolean);

/**
 * ROUNDS times: `COMMAND ARGS -o json` on every node, then once per node (`--nodes N`) as the same-run baseline of
 * doing the nodes serially; prints the medians: wall time, API requests (all nodes, one node alone), the baseline and
 * the ratio all ÷ one at a time.
 */
export async function benchAcrossNodes(command: string, args: readonly string[], rounds: number): Promise<void> {
  const nodes = clusterNodes();
  log(`${nodes.length} nodes, ${rounds} rounds, ${command} ${args.join(' ')}`);
  const all: BenchRun[] = [];
  const serial: number[] = [];
  const singleRequests: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const run = await runNetdiag([command, '-o', 'json', ...args]);
    all.push(run);
    log(
      `round ${round + 1}: all ${nodes.length} nodes in ${(run.ms / 1000).toFixed(1)} s, ${run.requests} API requests (exit ${run.status})`,
    );
    let sum = 0;
    for (const node of nodes) {
      const single = await runNetdiag([command, '-o', 'json', ...args, '--nodes', node]);
      sum += single.ms;
      singleRequests.push(single.requests);
    }
    serial.push(sum);
    log(`round ${round + 1}: one node at a time, ${nodes.length} runs, ${(sum / 1000).toFixed(1)} s in total`);
  }
  const wall = median(all.map((run) => run.ms));
  const serialWall = median(serial);
  console.log(`nodes: ${nodes.length}`);
  console.log(`${command} wall time (median of ${rounds}): ${(wall / 1000).toFixed(1)} s`);
  console.log(`api requests: ${median(all.map((run) => run.requests))} (one node alone: ${median(singleRequests)})`);
  console.log(`baseline, one node at a time: ${(serialWall / 1000).toFixed(1)} s`);
  console.log(`ratio all nodes ÷ one at a time: ${(wall / serialWall).toFixed(2)}`);
}
