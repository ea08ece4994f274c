/**
 * Benchmark of `kubectl netdiag sniff` against same-run baselines on the cluster in KUBECONFIG (the lab):
 *
 *  1. capture throughput: netdiag (ephemeral mode, pcap to stdout) ÷ raw `kubectl exec POD -- tcpdump -U -w -i any`
 *     on the same pod under the same iperf3 load (goal ≥ 0.95). Steady-state bytes/s over a fixed window after the
 *     first byte, alternating runs.
 *  2. time to first packet: netdiag on a fresh pod ÷ `kubectl debug --profile=netadmin` + waiting + `kubectl exec
 *     tcpdump` by hand on another fresh pod (goal ≤ 1.2).
 *  3. peak RSS of the netdiag process while capturing ≥ 2 GiB (goal ≤ 150 MiB, flat).
 *
 * Not a test: it prints numbers. Run: npm run build && node dist/bench/sniff.js   (NOT timed in CI)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const kubeconfig = process.env.KUBECONFIG ?? path.join(root, '.lab', 'kubeconfig');
const env = { ...process.env, KUBECONFIG: kubeconfig };
/** The CLI under test: the launcher of this checkout, or e.g. BENCH_CLI=release/build/linux_amd64/kubectl-netdiag. */
const cli = process.env.BENCH_CLI ?? path.join(root, 'bin', 'kubectl-netdiag');
const image = process.env.NETDIAG_TOOLS_IMAGE ?? 'ghcr.io/kubectl-netdiag/tools:0.1.0';
const ns = `netdiag-bench-${randomBytes(3).toString('hex')}`;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 10_000);
const WARMUP_MS = 2000;
/** Extra sniff flags for the throughput and RSS runs, e.g. BENCH_NETDIAG_ARGS=--no-immediate. */
const EXTRA_ARGS = (process.env.BENCH_NETDIAG_ARGS ?? '').split(' ').filter(Boolean);
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RSS_TARGET_BYTES = Number(process.env.BENCH_RSS_BYTES ?? 2 * 1024 ** 3);

function kubectl(args: string[], input?: string): string {
  const run = spawnSync('kubectl', args, { env, input, encoding: 'utf8', timeout: 180_000 });
  if (run.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

function pod(name: string, node: string, command: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${name}}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${image}
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", ${JSON.stringify(command)}]
---
`;
}

function waitRunning(names: string[]): void {
  for (const name of names) kubectl(['wait', '-n', ns, '--for=condition=Ready', `pod/${name}`, '--timeout=180s']);
}

/** Counts stdout bytes of a process over time: first byte after the 24-byte pcap header, and the steady window. */
function measureStream(
  child: ChildProcess,
): Promise<{ firstPacketMs: number; steadyBytesPerSecond: number; total: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let total = 0;
    let firstPacketAt: number | undefined;
    let windowStartBytes = 0;
    let windowStartAt: number | undefined;
    child.stdout!.on('data', (chunk: Buffer) => {
      total += chunk.length;
      const now = Date.now();
      if (firstPacketAt === undefined && total > 24) firstPacketAt = now;
      if (firstPacketAt !== undefined && windowStartAt === undefined && now - firstPacketAt >= WARMUP_MS) {
        windowStartAt = now;
        windowStartBytes = total;
      }
      if (windowStartAt !== undefined && now - windowStartAt >= WINDOW_MS) {
        const rate = ((total - windowStartBytes) * 1000) / (now - windowStartAt);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        child.kill('SIGINT');
        resolve({ firstPacketMs: (firstPacketAt ?? now) - started, steadyBytesPerSecond: rate, total });
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (windowStartAt === undefined || Date.now() - windowStartAt < WINDOW_MS)
        reject(new Error(`capture ended early (status ${code})`));
    });
  });
}

/** Spawns a process whose stdout the bench reads; `closed` is created at once so a fast exit is never missed. */
function start(
  command: string,
  args: string[],
  stderr: 'inherit' | 'ignore' = 'inherit',
): { child: ChildProcess; closed: Promise<unknown> } {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', stderr] });
  return { child, closed: new Promise((resolve) => child.once('close', resolve)) };
}

/**
 * Dense steady traffic on the time-to-first-packet pods: a ping to the pod's gateway every 50 ms, so the gap between
 * packets (not the tool) never decides when the first one arrives.
 */
const TRAFFIC = "ping -q -i 0.05 $(ip route | awk '/default/ {print $3}')";

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mib = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

async function throughput(): Promise<number> {
  const netdiagRates: number[] = [];
  const rawRates: number[] = [];
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    const { child: ours, closed: oursClosed } = start(cli, [
      'sniff',
      'server',
      '-n',
      ns,
      '-o',
      '-',
      '-q',
      '--no-stats',
      ...EXTRA_ARGS,
    ]);
    const a = await measureStream(ours);
    await oursClosed;
    netdiagRates.push(a.steadyBytesPerSecond);
    log(`round ${round + 1}: netdiag ${mib(a.steadyBytesPerSecond)}/s`);
    const { child: raw, closed: rawClosed } = start(
      'kubectl',
      ['exec', '-n', ns, 'server', '-c', 'main', '--', 'tcpdump', '-U', '-w', '-', '-i', 'any'],
      'ignore',
    );
    const b = await measureStream(raw);
    await rawClosed;
    // kubectl exec leaves the remote tcpdump running (kubernetes#89031): stop it so the next round is fair.
    spawnSync('kubectl', ['exec', '-n', ns, 'server', '-c', 'main', '--', 'pkill', 'tcpdump'], { env });
    rawRates.push(b.steadyBytesPerSecond);
    log(`round ${round + 1}: raw kubectl exec tcpdump ${mib(b.steadyBytesPerSecond)}/s`);
  }
  const ratio = median(netdiagRates) / median(rawRates);
  console.log(
    `throughput: netdiag ${mib(median(netdiagRates))}/s, raw kubectl exec tcpdump ${mib(median(rawRates))}/s → ratio ${ratio.toFixed(3)} (goal ≥ 0.95)`,
  );
  return ratio;
}

/** netdiag's time to first packet on a pod that has no netdiag ephemeral container yet. */
async function netdiagFirstPacket(pod: string, extra: string[]): Promise<number> {
  const started = Date.now();
  const { child, closed } = start(cli, ['sniff', pod, '-n', ns, '-o', '-', '-q', '--no-stats', ...extra]);
  const ms = (await firstPacketAt(child)) - started;
  await closed;
  return ms;
}

/** kubectl debug + waiting for the container + kubectl exec tcpdump, typed by hand as fast as possible. */
async function byHandFirstPacket(pod: string): Promise<number> {
  const started = Date.now();
  kubectl(['debug', '-n', ns, pod, '--image', image, '--profile=netadmin', '-c', 'dbg', '--', 'sleep', '600']);
  const running = 'jsonpath={.status.ephemeralContainerStatuses[?(@.name=="dbg")].state.running}';
  while (kubectl(['get', 'pod', '-n', ns, pod, '-o', running]).trim() === '') {
    await new Promise((r) => setTimeout(r, 200));
  }
  const exec = ['exec', '-n', ns, pod, '-c', 'dbg', '--', 'tcpdump', '-U', '-w', '-', '-i', 'any'];
  const { child, closed } = start('kubectl', exec, 'ignore');
  const ms = (await firstPacketAt(child)) - started;
  await closed;
  // kubectl exec leaves the remote tcpdump running (kubernetes#89031).
  spawnSync('kubectl', ['exec', '-n', ns, pod, '-c', 'dbg', '--', 'pkill', 'tcpdump'], { env });
  return ms;
}

/** Fresh pods for the time-to-first-packet rounds: one per round and way of capturing. */
const TTFP_ROUNDS = Number(process.env.BENCH_TTFP_ROUNDS ?? 5);
const ttfpPods = (): string[] =>
  Array.from({ length: TTFP_ROUNDS }, (_, round) =>
    ['hand', 'plain', 'batched'].map((kind) => `ttfp-${round}-${kind}`),
  ).flat();

async function timeToFirstPacket(): Promise<{ plain: number; batched: number }> {
  const hand: number[] = [];
  const plain: number[] = [];
  const batched: number[] = [];
  const reused: number[] = [];
  for (let round = 0; round < TTFP_ROUNDS; round++) {
    hand.push(await byHandFirstPacket(`ttfp-${round}-hand`));
    plain.push(await netdiagFirstPacket(`ttfp-${round}-plain`, []));
    batched.push(await netdiagFirstPacket(`ttfp-${round}-batched`, ['--no-immediate']));
    reused.push(await netdiagFirstPacket(`ttfp-${round}-plain`, []));
    log(
      `ttfp round ${round + 1}: by hand ${hand[round]} ms, netdiag ${plain[round]} ms, --no-immediate ${batched[round]} ms, reused ${reused[round]} ms`,
    );
  }
  const [h, p, b, r] = [median(hand), median(plain), median(batched), median(reused)];
  console.log(
    `time to first packet (median of ${TTFP_ROUNDS} fresh pods each): kubectl debug + exec by hand ${h} ms; ` +
      `netdiag ${p} ms → ratio ${(p / h).toFixed(3)} (goal ≤ 1.2); netdiag --no-immediate ${b} ms → ratio ${(b / h).toFixed(3)}; ` +
      `netdiag with the ephemeral container reused ${r} ms`,
  );
  return { plain: p / h, batched: b / h };
}

/** When the first packet record (bytes past the 24-byte pcap header) arrived; then stops the capture. */
function firstPacketAt(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let total = 0;
    child.stdout!.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > 24) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve(Date.now());
        child.kill('SIGINT');
      }
    });
    child.once('error', reject);
  });
}

function rssOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function peakRss(): Promise<number> {
  const { child: ours } = start(cli, ['sniff', 'server', '-n', ns, '-o', '-', '-q', '--no-stats', ...EXTRA_ARGS]);
  const samples: { bytes: number; rss: number }[] = [];
  let total = 0;
  let hwm = 0;
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      try {
        const { rss, hwm: peak } = rssOf(ours.pid!);
        hwm = Math.max(hwm, peak);
        samples.push({ bytes: total, rss });
      } catch {
        // the process is gone
      }
    }, 250);
    ours.stdout!.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total >= RSS_TARGET_BYTES && !ours.killed) {
        try {
          hwm = Math.max(hwm, rssOf(ours.pid!).hwm);
        } catch {
          // gone
        }
        ours.kill('SIGINT');
      }
    });
    ours.once('close', (code) => {
      clearInterval(timer);
      if (total < RSS_TARGET_BYTES) reject(new Error(`capture ended after ${mib(total)} (status ${code})`));
      else resolve();
    });
    ours.once('error', reject);
  });
  const seconds = (Date.now() - started) / 1000;
  const at = (fraction: number) => samples.find((s) => s.bytes >= RSS_TARGET_BYTES * fraction)?.rss ?? 0;
  console.log(
    `peak RSS capturing ${mib(total)} in ${seconds.toFixed(0)} s (${mib(total / seconds)}/s): ${mib(hwm)} (goal ≤ 150 MiB); ` +
      `RSS at 25/50/75/100%: ${[0.25, 0.5, 0.75, 0.999].map((f) => mib(at(f))).join(' / ')}`,
  );
  return hwm;
}

async function main(): Promise<void> {
  log(`namespace ${ns}, kubeconfig ${kubeconfig}`);
  kubectl(['create', 'namespace', ns]);
  try {
    kubectl(
      ['apply', '-f', '-'],
      pod('server', 'worker3.kube.local', 'iperf3 -s') +
        ttfpPods()
          .map((name) => pod(name, 'worker2.kube.local', TRAFFIC))
          .join(''),
    );
    waitRunning(['server', ...ttfpPods()]);
    const serverIp = kubectl(['get', 'pod', '-n', ns, 'server', '-o', 'jsonpath={.status.podIP}']).trim();
    // The load: iperf3 from worker1 to the server pod for the whole benchmark (restarted when one run ends).
    kubectl(
      ['apply', '-f', '-'],
      pod('load', 'worker1.kube.local', `while true; do iperf3 -c ${serverIp} -t 600 >/dev/null 2>&1; sleep 1; done`),
    );
    waitRunning(['load']);
    log(`load running against ${serverIp}`);
    await new Promise((r) => setTimeout(r, 3000));
    const only = (process.env.BENCH_ONLY ?? 'throughput,ttfp,rss').split(',');
    const tput = only.includes('throughput') ? await throughput() : NaN;
    const ttfp = only.includes('ttfp') ? await timeToFirstPacket() : { plain: NaN, batched: NaN };
    const rss = only.includes('rss') ? await peakRss() : NaN;
    console.log(
      `summary: throughput ratio ${tput.toFixed(3)} (≥ 0.95 ${tput >= 0.95 ? 'met' : 'NOT met'}), time-to-first-packet ratio ${ttfp.plain.toFixed(3)} (≤ 1.2 ${ttfp.plain <= 1.2 ? 'met' : 'NOT met'}; --no-immediate ${ttfp.batched.toFixed(3)}), peak RSS ${mib(rss)} (≤ 150 MiB ${rss <= 150 * 1024 ** 2 ? 'met' : 'NOT met'})`,
    );
  } finally {
    spawnSync('kubectl', ['delete', 'namespace', ns, '--wait=false'], { env });
  }
}

await main();
