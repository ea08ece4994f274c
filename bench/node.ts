/**
 * Benchmark of `kubectl netdiag node` on the cluster in KUBECONFIG (the lab): the whole run's wall time on every
 * node and the API requests it made, and as the same-run baseline the same run one node at a time (what reading the
 * nodes serially would cost). Nodes are read in parallel (two execs each), so all-nodes ÷ one-at-a-time should be
 * far below 1 and fall as nodes are added, and the API requests should not grow with the nodes beyond the pods'.
 *
 * Not a test: it prints numbers. Run on 3 and on 6 workers:
 *   npm run build && node dist/bench/node.js
 *   flock -x /tmp/netdiag-lab.lock sh -c 'scripts/lab/lab up --workers 6 && node dist/bench/node.js; scripts/lab/lab up --workers 3'
 */
import { benchAcrossNodes } from './support.js';

await benchAcrossNodes('node', [], Number(process.env.BENCH_ROUNDS ?? 3));
