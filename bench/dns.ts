/**
 * Benchmark of `kubectl netdiag dns` on the cluster in KUBECONFIG (the lab): the whole run's wall time on every
 * Ready node, the API requests it made (`-v` prints `api requests: N`), and as the same-run baseline the same check
 * one node at a time (what checking the nodes serially would cost). Nodes are checked in parallel, so the ratio
 * all-nodes ÷ sum-of-single-node-runs should be far below 1 and fall as nodes are added.
 *
 * Not a test: it prints numbers. Run on 3 and on 6 workers:
 *   npm run build && node dist/bench/dns.js
 *   flock -x /tmp/netdiag-lab.lock sh -c 'scripts/lab/lab up --workers 6 && node dist/bench/dns.js; scripts/lab/lab up --workers 3'
 */
import { clusterNodes, log, median, runNetdiag, type BenchRun } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** The check as doctor runs it: no external name (the lab has no Internet), 3 queries per resolver. */
const ARGS = (process.env.BENCH_DNS_ARGS ?? '--no-external --queries 3').split(' ').filter(Boolean);

const nodes = clusterNodes();
log(`${nodes.length} nodes, ${ROUNDS} rounds, dns ${ARGS.join(' ')}`);

const all: BenchRun[] = [];
const serial: number[] = [];
const singleRequests: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const run = await runNetdiag(['dns', '-o', 'json', ...ARGS]);
  all.push(run);
  log(
    `round ${round + 1}: all ${nodes.length} nodes in ${(run.ms / 1000).toFixed(1)} s, ${run.requests} API requests (exit ${run.status})`,
  );
  let sum = 0;
  for (const node of nodes) {
    const single = await runNetdiag(['dns', '-o', 'json', ...ARGS, '--nodes', node]);
    sum += single.ms;
    singleRequests.push(single.requests);
  }
  serial.push(sum);
  log(`round ${round + 1}: one node at a time, ${nodes.length} runs, ${(sum / 1000).toFixed(1)} s in total`);
}

const wall = median(all.map((run) => run.ms));
const serialWall = median(serial);
console.log(`nodes: ${nodes.length}`);
console.log(`dns wall time (median of ${ROUNDS}): ${(wall / 1000).toFixed(1)} s`);
console.log(`api requests: ${median(all.map((run) => run.requests))} (one node alone: ${median(singleRequests)})`);
console.log(`baseline, one node at a time: ${(serialWall / 1000).toFixed(1)} s`);
console.log(`ratio all nodes ÷ one at a time: ${(wall / serialWall).toFixed(2)}`);
