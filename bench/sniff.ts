/**
 * Benchmark of `kubectl netdiag sniff` against same-run baselines on the cluster in KUBECONFIG (the lab):
 *
 *  1. capture throughput per mode (ephemeral, upload, node; pcap to stdout) ÷ raw `kubectl exec POD -- tcpdump -U -w
 *     - -i any` on the same pod under the same iperf3 load (goal ≥ 1.0), both with tcpdump's default kernel buffering
 *     (ours `--no-immediate`). Steady-state bytes/s over a fixed window after the first byte, alternating runs.
 *  2. time to first packet per mode, on a fresh pod and on the same pod again, with the phases `-v` reports, ÷
 *     `kubectl debug --profile=netadmin` + waiting + `kubectl exec tcpdump` by hand on another fresh pod (goals ≤ 0.6
 *     fresh, ≤ 0.5 again); the hand baseline's own "again" (exec into its debug container) is printed beside it.
 *  3. peak RSS of the netdiag process while capturing ≥ 2 GiB (goal ≤ 100 MiB, flat), the highest of
 *     BENCH_RSS_ROUNDS captures (default 3), each started with the executable out of the page cache
 *     ({@link dropFromPageCache} says why), with the anonymous and file-backed parts of the highest sample.
 *  4. start-up: the release binary's `version --client` ÷ `kubectl version --client` (bench/startup.sh; goal ≤ 1.5),
 *     with the iperf3 load stopped.
 *
 * Not a test: it prints numbers. Run: npm run build && node dist/bench/sniff.js   (NOT timed in CI)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePhases } from '../src/lib/phases.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const kubeconfig = process.env.KUBECONFIG ?? path.join(root, '.lab', 'kubeconfig');
const env = { ...process.env, KUBECONFIG: kubeconfig };
/** The CLI under test: the launcher of this checkout, or e.g. BENCH_CLI=release/build/linux_amd64/kubectl-netdiag. */
const cli = process.env.BENCH_CLI ?? path.join(root, 'bin', 'kubectl-netdiag');
const image = process.env.NETDIAG_TOOLS_IMAGE ?? 'ghcr.io/kubectl-netdiag/tools:0.1.0';
const ns = `netdiag-bench-${randomBytes(3).toString('hex')}`;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 10_000);
const WARMUP_MS = 2000;
/**
 * Sniff flags for the throughput and RSS runs. By default `--no-immediate`: the raw baseline `tcpdump -U -w -` has
 * tcpdump's default kernel buffering, and so must ours to compare the stream paths (`-o -` into a pipe otherwise
 * turns on --immediate-mode, which costs tcpdump CPU per packet). BENCH_NETDIAG_ARGS=--immediate measures the pipe
 * default instead (against the same raw command).
 */
const EXTRA_ARGS = (process.env.BENCH_NETDIAG_ARGS ?? '--no-immediate').split(' ').filter(Boolean);
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RSS_TARGET_BYTES = Number(process.env.BENCH_RSS_BYTES ?? 2 * 1024 ** 3);
const RSS_ROUNDS = Number(process.env.BENCH_RSS_ROUNDS ?? 3);

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

/** Capture throughput of each mode ÷ raw `kubectl exec tcpdump -w -` on the same pod, alternating runs. */
async function throughput(): Promise<Record<Mode, number>> {
  const rates = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  const rawRates: number[] = [];
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    for (const mode of MODES) {
      const { child: ours, closed: oursClosed } = start(cli, [
        'sniff',
        'server',
        '-n',
        ns,
        '--mode',
        mode,
        '-o',
        '-',
        '-q',
        '--no-stats',
        ...EXTRA_ARGS,
      ]);
      const a = await measureStream(ours);
      await oursClosed;
      rates[mode].push(a.steadyBytesPerSecond);
      log(`round ${round + 1}: netdiag ${mode} ${mib(a.steadyBytesPerSecond)}/s`);
    }
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
  const raw = median(rawRates);
  const ratios = {} as Record<Mode, number>;
  for (const mode of MODES) {
    ratios[mode] = median(rates[mode]) / raw;
    console.log(
      `throughput ${mode}: ${mib(median(rates[mode]))}/s ÷ raw kubectl exec tcpdump ${mib(raw)}/s → ratio ${ratios[mode].toFixed(3)} (goal ≥ 1.0)`,
    );
  }
  return ratios;
}

type Phases = { phase: string; ms: number }[];

/** netdiag's time to first packet on `pod` in `mode`, with the phases its -v output reports. */
async function netdiagFirstPacket(pod: string, mode: Mode): Promise<{ ms: number; phases: Phases }> {
  const started = Date.now();
  const child = spawn(cli, ['sniff', pod, '-n', ns, '--mode', mode, '-o', '-', '-q', '-v', '--no-stats'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise((resolve) => child.once('close', resolve));
  const ms = (await firstPacketAt(child)) - started;
  await closed;
  const phases = parsePhases(stderr);
  if (phases.length === 0) throw new Error(`no phases in the -v output of ${mode} on ${pod}: ${stderr}`);
  return { ms, phases };
}

/** kubectl debug + waiting for the container + kubectl exec tcpdump, typed by hand as fast as possible. */
async function byHandFirstPacket(pod: string): Promise<number> {
  const started = Date.now();
  kubectl(['debug', '-n', ns, pod, '--image', image, '--profile=netadmin', '-c', 'dbg', '--', 'sleep', '600']);
  const running = 'jsonpath={.status.ephemeralContainerStatuses[?(@.name=="dbg")].state.running}';
  while (kubectl(['get', 'pod', '-n', ns, pod, '-o', running]).trim() === '') {
    await new Promise((r) => setTimeout(r, 200));
  }
  return (await byHandExec(pod, started)) - started;
}

/** The same pod again by hand: `kubectl exec tcpdump` in the debug container that is already there. */
async function byHandAgain(pod: string): Promise<number> {
  const started = Date.now();
  return (await byHandExec(pod, started)) - started;
}

async function byHandExec(pod: string, started: number): Promise<number> {
  const exec = ['exec', '-n', ns, pod, '-c', 'dbg', '--', 'tcpdump', '-U', '-w', '-', '-i', 'any'];
  const { child, closed } = start('kubectl', exec, 'ignore');
  const at = await firstPacketAt(child);
  await closed;
  // kubectl exec leaves the remote tcpdump running (kubernetes#89031).
  spawnSync('kubectl', ['exec', '-n', ns, pod, '-c', 'dbg', '--', 'pkill', 'tcpdump'], { env });
  return Math.max(at, started);
}

const MODES = ['ephemeral', 'upload', 'node'] as const;
type Mode = (typeof MODES)[number];

/** Fresh pods for the time-to-first-packet rounds: one per round for the hand baseline and for each mode. */
const TTFP_ROUNDS = Number(process.env.BENCH_TTFP_ROUNDS ?? 5);
const ttfpPods = (): string[] =>
  Array.from({ length: TTFP_ROUNDS }, (_, round) => ['hand', ...MODES].map((kind) => `ttfp-${round}-${kind}`)).flat();

/** Median duration per phase over runs (phases in the order they were reported). */
function medianPhases(runs: Phases[]): string {
  const names = [...new Set(runs.flatMap((r) => r.map((p) => p.phase)))];
  return names.map((name) => `${name} ${median(runs.map((r) => r.find((p) => p.phase === name)?.ms ?? 0))}`).join(', ');
}

/** Ratios of each mode's median time to first packet to the hand baseline, fresh pod and same pod again. */
async function timeToFirstPacket(): Promise<Record<Mode, { fresh: number; again: number }>> {
  const hand = { fresh: [] as number[], again: [] as number[] };
  const ours = Object.fromEntries(
    MODES.map((m) => [
      m,
      { fresh: [] as number[], again: [] as number[], freshPhases: [] as Phases[], againPhases: [] as Phases[] },
    ]),
  ) as Record<Mode, { fresh: number[]; again: number[]; freshPhases: Phases[]; againPhases: Phases[] }>;
  for (let round = 0; round < TTFP_ROUNDS; round++) {
    hand.fresh.push(await byHandFirstPacket(`ttfp-${round}-hand`));
    hand.again.push(await byHandAgain(`ttfp-${round}-hand`));
    const line = [`by hand ${hand.fresh[round]}/${hand.again[round]} ms`];
    for (const mode of MODES) {
      const pod = `ttfp-${round}-${mode}`;
      const fresh = await netdiagFirstPacket(pod, mode);
      const again = await netdiagFirstPacket(pod, mode);
      ours[mode].fresh.push(fresh.ms);
      ours[mode].again.push(again.ms);
      ours[mode].freshPhases.push(fresh.phases);
      ours[mode].againPhases.push(again.phases);
      line.push(`${mode} ${fresh.ms}/${again.ms} ms`);
    }
    log(`ttfp round ${round + 1} (fresh/again): ${line.join(', ')}`);
  }
  const [hf, ha] = [median(hand.fresh), median(hand.again)];
  console.log(
    `time to first packet, median of ${TTFP_ROUNDS} rounds; baseline kubectl debug + exec by hand: fresh pod ${hf} ms, same pod again (exec only) ${ha} ms`,
  );
  const ratios = {} as Record<Mode, { fresh: number; again: number }>;
  for (const mode of MODES) {
    const [f, a] = [median(ours[mode].fresh), median(ours[mode].again)];
    ratios[mode] = { fresh: f / hf, again: a / hf };
    console.log(
      `  ${mode.padEnd(9)} fresh pod ${f} ms → ratio ${(f / hf).toFixed(3)} (goal ≤ 0.6); phases (ms): ${medianPhases(ours[mode].freshPhases)}`,
    );
    console.log(
      `  ${mode.padEnd(9)} same pod again ${a} ms → ratio ${(a / hf).toFixed(3)} (goal ≤ 0.5); phases (ms): ${medianPhases(ours[mode].againPhases)}`,
    );
  }
  return ratios;
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

function rssOf(pid: number): { rss: number; hwm: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** The executable the CLI runs as: the release binary itself, or the Node that the launcher script execs. */
function executableOf(command: string): string {
  const head = Buffer.alloc(2);
  const fd = openSync(command, 'r');
  readSync(fd, head, 0, 2, 0);
  closeSync(fd);
  if (head.toString() !== '#!') return command;
  const local = path.join(root, 'node_modules', 'node', 'bin', 'node');
  if (existsSync(local)) return local;
  return spawnSync('which', ['node'], { encoding: 'utf8' }).stdout.trim();
}

/**
 * Drops the executable's pages from the page cache (`dd iflag=nocache`), so every round maps it as read from disk.
 * A binary the release tool has just written sits in the page cache in large folios, and a process that touches one
 * page of a folio is charged all of it: the same single executable's `version --client` peaked at 84.7 MiB right
 * after the build and at 64.0 MiB once its pages were dropped (the launcher: 64.7 both ways). Without this the peak
 * measured how the file got into the cache, not the process.
 */
function dropFromPageCache(file: string): void {
  const run = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  if (run.status !== 0) throw new Error(`dd iflag=nocache ${file}: ${run.stderr.toString()}`);
}

/** The three largest anonymous parts of the process, from /proc/PID/smaps (which one grows when a peak is high). */
function largestAnonymous(pid: number): string {
  const parts: { name: string; anon: number }[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) parts.push({ name: mapping[1] || 'anon', anon: 0 });
    else if (line.startsWith('Anonymous:')) parts.at(-1)!.anon = Number(line.split(/\s+/)[1]) * 1024;
  }
  return parts
    .sort((a, b) => b.anon - a.anon)
    .slice(0, 3)
    .map((p) => `${p.name} ${mib(p.anon)}`)
    .join(', ');
}

async function peakRssOnce(): Promise<number> {
  dropFromPageCache(executableOf(cli));
  const { child: ours } = start(cli, ['sniff', 'server', '-n', ns, '-o', '-', '-q', '--no-stats', ...EXTRA_ARGS]);
  const samples: { bytes: number; rss: number; anon: number; file: number }[] = [];
  let largest = '';
  let total = 0;
  let hwm = 0;
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      try {
        const { rss, hwm: peak, anon, file } = rssOf(ours.pid!);
        hwm = Math.max(hwm, peak);
        if (samples.every((s) => s.rss < rss)) largest = largestAnonymous(ours.pid!);
        samples.push({ bytes: total, rss, anon, file });
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
  const highest = samples.reduce((a, b) => (b.rss > a.rss ? b : a), { rss: 0, anon: 0, file: 0 });
  console.log(
    `peak RSS capturing ${mib(total)} in ${seconds.toFixed(0)} s (${mib(total / seconds)}/s): ${mib(hwm)} (goal ≤ 100 MiB); ` +
      `RSS at 25/50/75/100%: ${[0.25, 0.5, 0.75, 0.999].map((f) => mib(at(f))).join(' / ')}; ` +
      `highest sample ${mib(highest.rss)} = anonymous ${mib(highest.anon)} (largest: ${largest}) + ` +
      `file-backed ${mib(highest.file)}`,
  );
  return hwm;
}

/** The highest peak of {@link RSS_ROUNDS} captures, each printed. */
async function peakRss(): Promise<number> {
  const peaks: number[] = [];
  for (let round = 0; round < RSS_ROUNDS; round++) peaks.push(await peakRssOnce());
  console.log(
    `peak RSS over ${peaks.length} captures: ${peaks.map(mib).join(', ')}; highest ${mib(Math.max(...peaks))}`,
  );
  return Math.max(...peaks);
}

/**
 * `version --client` of the release binary (what krew installs) ÷ `kubectl version --client`, by bench/startup.sh;
 * BENCH_RELEASE_BINARY, else release/build/linux_amd64/kubectl-netdiag (`npm run release -- --platforms linux/amd64`).
 */
function startup(): number {
  const binary =
    process.env.BENCH_RELEASE_BINARY ?? path.join(root, 'release', 'build', 'linux_amd64', 'kubectl-netdiag');
  const run = spawnSync('bash', [path.join(root, 'bench', 'startup.sh'), binary, '21'], {
    encoding: 'utf8',
    env: { ...process.env, GOAL: '1.5' },
  });
  process.stdout.write(run.stdout);
  const ratio = /^ratio ([\d.]+)/m.exec(run.stdout)?.[1];
  if (ratio === undefined) throw new Error(`bench/startup.sh ${binary}: ${run.stderr}`);
  return Number(ratio);
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
    const only = (process.env.BENCH_ONLY ?? 'throughput,ttfp,rss,startup').split(',');
    const tput = only.includes('throughput') ? await throughput() : undefined;
    const ttfp = only.includes('ttfp') ? await timeToFirstPacket() : undefined;
    const rss = only.includes('rss') ? await peakRss() : NaN;
    let startupRatio = NaN;
    if (only.includes('startup')) {
      // Start-up is CPU on this machine alone, and on 2 cores the iperf3 load (a core's worth of lab traffic) is the
      // noise in it, so it stops first.
      kubectl(['delete', 'pod', '-n', ns, 'load', '--wait=true']);
      startupRatio = startup();
    }
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const parts: string[] = [];
    for (const mode of MODES) {
      if (ttfp)
        parts.push(
          `${mode} first packet ÷ by hand: fresh ${ttfp[mode].fresh.toFixed(2)} (≤ 0.6 ${verdict(ttfp[mode].fresh <= 0.6)}), again ${ttfp[mode].again.toFixed(2)} (≤ 0.5 ${verdict(ttfp[mode].again <= 0.5)})`,
        );
      if (tput) parts.push(`${mode} throughput ÷ raw ${tput[mode].toFixed(2)} (≥ 1.0 ${verdict(tput[mode] >= 1)})`);
    }
    if (!Number.isNaN(rss)) parts.push(`peak RSS ${mib(rss)} (≤ 100 MiB ${verdict(rss <= 100 * 1024 ** 2)})`);
    if (!Number.isNaN(startupRatio))
      parts.push(`release binary start ÷ kubectl ${startupRatio.toFixed(2)} (≤ 1.5 ${verdict(startupRatio <= 1.5)})`);
    console.log(`summary: ${parts.join('; ')}`);
  } finally {
    spawnSync('kubectl', ['delete', 'namespace', ns, '--wait=false'], { env });
  }
}

await main();
