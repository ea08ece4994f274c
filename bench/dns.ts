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
import { benchAcrossNodes } from './support.js';

/** The check as doctor runs it: no external name (the lab has no Internet), 3 queries per resolver. */
const ARGS = (process.env.BENCH_DNS_ARGS ?? '--no-external --queries 3').split(' ').filter(Boolean);

await benchAcrossNodes('dns', ARGS, Number(process.env.BENCH_ROUNDS ?? 3));
