/**
 * Benchmark of `kubectl netdiag doctor` on the lab: wall time with and without `--quick`, on 3 and on 6 workers, and
 * the API requests each run made. Goal (issue 15): a 3-worker lab with --quick in under 2 minutes.
 *
 * Changing the worker count restarts the lab, so then the bench holds the lab's exclusive lock from the first resize
 * to the end and always leaves the lab with 3 workers (shared when it only measures). Run it holding no lab lock:
 *   npm run build && node dist/bench/doctor.js            (BENCH_WORKERS=3 to skip the 6-worker part)
 * Not a test: it prints numbers.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterNodes, log, median, runNetdiag } from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKERS = (process.env.BENCH_WORKERS ?? '3,6').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LOCK_FILE = '/tmp/netdiag-lab.lock';
/** The lab's outside world (docs/lab.md), so the outside checks run as they would on a cluster with egress. */
const LAB_OUTSIDE = [
  '--external-name',
  'www.netdiag.test',
  '--target',
  'www.netdiag.test:80',
  '--ping',
  '172.30.78.80',
];

interface Sample {
  readonly workers: number;
  readonly quick: boolean;
  readonly ms: number;
  readonly requests: number;
}

function labUp(workers: number): void {
  log(`lab up --workers ${workers}`);
  const run = spawnSync('bash', [path.join(root, 'scripts', 'lab', 'lab'), 'up', '--workers', String(workers)], {
    encoding: 'utf8',
    timeout: 900_000,
  });
  if (run.status !== 0) throw new Error(`lab up --workers ${workers} failed: ${run.stderr}`);
}

async function measure(workers: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let round = 0; round < ROUNDS; round++)
    for (const quick of [true, false]) {
      const run = await runNetdiag(['doctor', '-o', 'json', ...LAB_OUTSIDE, ...(quick ? ['--quick'] : [])]);
      const diagnoses = (JSON.parse(run.stdout) as { data: { diagnoses: unknown[] } }).data.diagnoses.length;
      log(
        `${workers} workers, ${quick ? '--quick' : 'full   '}: ${(run.ms / 1000).toFixed(1)} s, ` +
          `${run.requests} API requests, exit ${run.status}, ${diagnoses} diagnoses`,
      );
      samples.push({ workers, quick, ms: run.ms, requests: run.requests });
    }
  return samples;
}

/**
 * Runs `body` holding the lab lock (flock around a cat that lives as long as its stdin): exclusively when the worker
 * count changes (that restarts the lab), shared when the bench only measures.
 */
async function withLab<T>(mode: '-x' | '-s', body: () => Promise<T>): Promise<T> {
  const holder = spawn('flock', [mode, LOCK_FILE, 'sh', '-c', 'echo held; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => holder.stdout.once('data', resolve));
  try {
    return await body();
  } finally {
    holder.stdin.end();
  }
}

async function main(): Promise<void> {
  const resizes = WORKERS.some((workers) => workers !== clusterNodes().length);
  const samples = await withLab(resizes ? '-x' : '-s', async () => {
    const all: Sample[] = [];
    try {
      for (const workers of WORKERS) {
        if (clusterNodes().length !== workers) labUp(workers);
        all.push(...(await measure(workers)));
      }
    } finally {
      if (clusterNodes().length !== 3) labUp(3);
    }
    return all;
  });
  console.log('workers  mode     wall (median)  API requests (median)');
  for (const workers of WORKERS)
    for (const quick of [true, false]) {
      const mine = samples.filter((s) => s.workers === workers && s.quick === quick);
      console.log(
        `${String(workers).padEnd(8)} ${(quick ? '--quick' : 'full').padEnd(8)} ` +
          `${(median(mine.map((s) => s.ms)) / 1000).toFixed(1).padStart(8)} s  ${median(mine.map((s) => s.requests))}`,
      );
    }
  const quick3 = median(samples.filter((s) => s.workers === 3 && s.quick).map((s) => s.ms));
  console.log(
    `goal: 3 workers --quick under 120 s: ${(quick3 / 1000).toFixed(1)} s ${quick3 < 120_000 ? 'met' : 'NOT met'}`,
  );
}

await main();
