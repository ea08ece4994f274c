/**
 * Benchmark of `kubectl netdiag check` on the cluster in KUBECONFIG (the lab): wall time and API requests of a whole
 * run on every Ready node, and as the same-run baseline a run on one node (the fixed cost: the test Service, two
 * pods, one batch of probes). Probes run as one exec per node and phase, so API requests grow with the nodes, not
 * with the N² probes, and the ratio all ÷ one node stays near 1. Then the probe count with --sample K.
 *
 * Not a test: it prints numbers. Run on 3 and on 6 workers:
 *   npm run build && node dist/bench/check.js
 *   flock -x /tmp/netdiag-lab.lock sh -c 'scripts/lab/lab up --workers 6 && node dist/bench/check.js; scripts/lab/lab up --workers 3'
 */
import { clusterNodes, log, median, runNetdiag, type BenchRun } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface CheckJson {
  readonly data: { readonly probes: readonly unknown[]; readonly mtu: readonly unknown[]; readonly coverage: object };
}

const probesOf = (run: BenchRun) => {
  const { data } = JSON.parse(run.stdout) as CheckJson;
  return { probes: data.probes.length, mtu: data.mtu.length, coverage: data.coverage };
};

const nodes = clusterNodes();
log(`${nodes.length} nodes, ${ROUNDS} rounds`);
const all: BenchRun[] = [];
const single: BenchRun[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const run = await runNetdiag(['check', '-o', 'json']);
  all.push(run);
  const one = await runNetdiag(['check', '-o', 'json', '--nodes', nodes[0] ?? '']);
  single.push(one);
  log(
    `round ${round + 1}: ${nodes.length} nodes ${(run.ms / 1000).toFixed(1)} s, ${run.requests} API requests (exit ${run.status}); ` +
      `one node ${(one.ms / 1000).toFixed(1)} s, ${one.requests} API requests`,
  );
}
const wall = median(all.map((run) => run.ms));
const oneWall = median(single.map((run) => run.ms));
const full = probesOf(all[0]!);
console.log(`nodes: ${nodes.length}`);
console.log(`check wall time (median of ${ROUNDS}): ${(wall / 1000).toFixed(1)} s`);
console.log(
  `api requests: ${median(all.map((run) => run.requests))} (one node: ${median(single.map((run) => run.requests))})`,
);
console.log(`probes: ${full.probes} + ${full.mtu} MTU pairs, coverage ${JSON.stringify(full.coverage)}`);
console.log(
  `baseline, one node: ${(oneWall / 1000).toFixed(1)} s; ratio all nodes ÷ one node: ${(wall / oneWall).toFixed(2)}`,
);
for (const sample of [1, 2].filter((k) => k < nodes.length - 1)) {
  const run = await runNetdiag(['check', '-o', 'json', '--sample', String(sample)]);
  const sampled = probesOf(run);
  console.log(
    `--sample ${sample}: ${sampled.probes} probes + ${sampled.mtu} MTU pairs, coverage ${JSON.stringify(sampled.coverage)}, ` +
      `${(run.ms / 1000).toFixed(1)} s, ${run.requests} API requests`,
  );
}
