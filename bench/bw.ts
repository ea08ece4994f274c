/**
 * Benchmark of `kubectl netdiag bw` against same-run baselines on the cluster in KUBECONFIG (the lab):
 *
 *  1. accuracy: the bits/s netdiag reports for one pair ÷ iperf3 run by hand (kubectl exec, same image, same test
 *     options) between two pods on the same two nodes, alternating runs (goal 0.95–1.05);
 *  2. scheduling (needs ≥ 6 nodes: `scripts/lab/lab up --workers 6`): the matrix's measuring wall time ÷ (rounds ×
 *     per-test time) (goal ≤ 1.3), and ÷ the wall time of `--serial` (n(n−1) tests one after the other).
 *
 * Not a test: it prints numbers. Run: npm run build && node dist/bench/bw.js   (NOT timed in CI)
 * BENCH_TIME (default 5) seconds per test, BENCH_ROUNDS (default 3) alternations for the accuracy part.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BwData } from '../src/bw/model.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = { ...process.env, KUBECONFIG: process.env.KUBECONFIG ?? path.join(root, '.lab', 'kubeconfig') };
const cli = process.env.BENCH_CLI ?? path.join(root, 'bin', 'kubectl-netdiag');
const image = process.env.NETDIAG_TOOLS_IMAGE ?? 'ghcr.io/kubectl-netdiag/tools:0.1.0';
const ns = `netdiag-bench-${randomBytes(3).toString('hex')}`;
const TIME_S = Number(process.env.BENCH_TIME ?? 5);
const OMIT_S = 1;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

function run(command: string, args: readonly string[], input?: string): string {
  const result = spawnSync(command, args, { env, input, encoding: 'utf8', timeout: 900_000, maxBuffer: 1 << 26 });
  if (result.status !== 0 && !(command === cli && result.status === 1)) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result.stdout;
}

const kubectl = (args: readonly string[], input?: string) => run('kubectl', args, input);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** netdiag's JSON for `args`, and how long the whole CLI took. */
function netdiag(args: readonly string[]): { data: BwData; seconds: number } {
  const started = Date.now();
  const stdout = run(cli, ['bw', '-q', '-o', 'json', ...args]);
  return { data: (JSON.parse(stdout) as { data: BwData }).data, seconds: (Date.now() - started) / 1000 };
}

function byHandPods(from: string, to: string): { client: string; serverIP: string } {
  kubectl(['create', 'namespace', ns]);
  for (const [name, node] of [
    ['client', from],
    ['server', to],
  ] as const) {
    const command = name === 'server' ? '["iperf3","--server"]' : '["sleep","3600"]';
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns },
        spec: {
          nodeName: node,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: JSON.parse(command) }],
        },
      }),
    );
  }
  kubectl(['wait', '-n', ns, '--for=condition=Ready', 'pod/client', 'pod/server', '--timeout=120s']);
  return { client: 'client', serverIP: kubectl(['get', 'pod', '-n', ns, 'server', '-o', 'jsonpath={.status.podIP}']) };
}

function byHand(pods: { client: string; serverIP: string }): number {
  const json = kubectl([
    'exec',
    '-n',
    ns,
    pods.client,
    '--',
    'iperf3',
    '-c',
    pods.serverIP,
    '-J',
    '-t',
    String(TIME_S),
    '-O',
    String(OMIT_S),
  ]);
  return (JSON.parse(json) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
}

function accuracy(nodes: readonly string[]): void {
  const [from, to] = nodes;
  if (!from || !to) throw new Error('the accuracy bench needs two nodes');
  const pods = byHandPods(from, to);
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      const { data } = netdiag(['--pairs', `${from}:${to}`, '--time', `${TIME_S}s`, '--omit', `${OMIT_S}s`]);
      ours.push(data.results[0]?.bitsPerSecond ?? 0);
      theirs.push(byHand(pods));
      log(
        `round ${round + 1}: netdiag ${(ours.at(-1)! / 1e9).toFixed(2)} Gbit/s, by hand ${(theirs.at(-1)! / 1e9).toFixed(2)} Gbit/s`,
      );
    }
  } finally {
    kubectl(['delete', 'namespace', ns, '--wait=false']);
  }
  console.log(`accuracy ${from}→${to}, ${TIME_S}s tests after ${OMIT_S}s omitted, ${ROUNDS} alternations:`);
  console.log(
    `  netdiag median ${(median(ours) / 1e9).toFixed(3)} Gbit/s, iperf3 by hand ${(median(theirs) / 1e9).toFixed(3)} Gbit/s`,
  );
  console.log(`  ratio netdiag ÷ by hand: ${(median(ours) / median(theirs)).toFixed(3)} (goal 0.95–1.05)`);
}

function scheduling(nodes: readonly string[]): void {
  const testSeconds = TIME_S + OMIT_S;
  const args = ['--time', `${TIME_S}s`, '--omit', `${OMIT_S}s`];
  const parallel = netdiag(args);
  const serial = netdiag([...args, '--serial']);
  const rounds = parallel.data.schedule[0]?.rounds ?? 0;
  const wall = parallel.data.wallTimeMs / 1000;
  const serialWall = serial.data.wallTimeMs / 1000;
  console.log(`scheduling on ${nodes.length} nodes, ${parallel.data.results.length} pairs, ${testSeconds}s per test:`);
  console.log(
    `  parallel: ${rounds} rounds, measuring ${wall.toFixed(1)}s (whole CLI ${parallel.seconds.toFixed(1)}s)`,
  );
  console.log(`  ÷ (rounds × per-test time) = ${(wall / (rounds * testSeconds)).toFixed(2)} (goal ≤ 1.3)`);
  console.log(`  serial: measuring ${serialWall.toFixed(1)}s (whole CLI ${serial.seconds.toFixed(1)}s)`);
  console.log(
    `  parallel ÷ serial = ${(wall / serialWall).toFixed(2)}; serial ÷ n(n−1)·t = ${(serialWall / (parallel.data.results.length * testSeconds)).toFixed(2)}`,
  );
}

const nodes = kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}']).split(' ').filter(Boolean).sort();
log(`${nodes.length} nodes`);
accuracy(nodes);
if (nodes.length >= 6) scheduling(nodes);
else console.log(`scheduling: skipped, ${nodes.length} nodes (start the lab with --workers 6)`);
