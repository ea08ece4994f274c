/**
 * iperf3, the one way bw runs it: the server's and the client's argv, and reading the client's JSON (`-J`, never the
 * text output: its format changes between versions, the JSON's keys do not). Pure.
 *
 * Facts this relies on (iperf3 3.12, the tools image's; checked against its output in test/fixtures/bw):
 * - a server runs one test at a time; `--idle-timeout` resets a server a dead client left stuck;
 * - `end.sum_received` is what arrived at the receiver (bits/s, and for UDP jitter and loss), `end.sum_sent` what the
 *   sender sent, with TCP retransmits; in `--bidir`, the `*_bidir_reverse` sums are the server→client direction;
 * - per-stream `mean_rtt` (µs) is only known where the client sends (0 in `--reverse`);
 * - `cpu_utilization_percent.host_total` is the client's process, `remote_total` the server's (% of one CPU);
 * - a failed test prints `{"error": "..."}` with an empty `end`.
 */

export type Protocol = 'tcp' | 'udp';

/** The test every pair gets, from the command's flags. */
export interface IperfTest {
  readonly protocol: Protocol;
  /** Parallel streams (`-P`). */
  readonly parallel: number;
  /** Seconds measured (`-t`), after `omitSeconds` of slow start that is not counted (`-O`). */
  readonly timeSeconds: number;
  readonly omitSeconds: number;
  /** The server sends (`-R`): the client runs on the receiving node. */
  readonly reverse: boolean;
  /** Both directions at once (`--bidir`): one test measures a→b and b→a. */
  readonly bidir: boolean;
  /** Target bits/s per stream (`-b`); UDP needs one (iperf3's UDP default is 1 Mbit/s), TCP is unlimited without. */
  readonly bitrate: number | undefined;
  /** Bytes per write (`-l`); iperf3's default when undefined (128 KiB TCP, path MTU UDP). */
  readonly length: number | undefined;
  readonly port: number;
}

/** How long the client waits for the server's control connection before giving up (`--connect-timeout`). */
export const CONNECT_TIMEOUT_MS = 5_000;

/** Where the client's JSON goes before it is printed: a file, so that nothing else can interleave with it. */
export const CLIENT_LOGFILE = '/tmp/netdiag-iperf3.json';

/**
 * The server, the iperf3 helper pod's main process. `timeout` ends it after the whole run's bound even if netdiag
 * dies and nobody deletes the pod; `--idle-timeout` resets it when a client vanished mid-test, so the next test is
 * not refused as "busy".
 */
export function serverArgv(port: number, runBoundSeconds: number, idleTimeoutSeconds: number): string[] {
  return [
    'timeout',
    '-s',
    'TERM',
    String(Math.ceil(runBoundSeconds)),
    'iperf3',
    '--server',
    '--port',
    String(port),
    '--idle-timeout',
    String(Math.ceil(idleTimeoutSeconds)),
  ];
}

/** Seconds a client's test can take at most: connect, omitted slow start, the test, the results exchange. */
export const clientBoundSeconds = (test: IperfTest): number =>
  CONNECT_TIMEOUT_MS / 1000 + test.omitSeconds + test.timeSeconds + 10;

/** iperf3's own argv for a client test against `server` (an IP). */
export function clientIperfArgv(server: string, test: IperfTest): string[] {
  const argv = ['iperf3', '--client', server, '--port', String(test.port), '--json'];
  argv.push('--time', String(test.timeSeconds), '--omit', String(test.omitSeconds));
  argv.push('--parallel', String(test.parallel), '--connect-timeout', String(CONNECT_TIMEOUT_MS));
  if (test.protocol === 'udp') argv.push('--udp');
  if (test.bitrate !== undefined) argv.push('--bitrate', String(test.bitrate));
  if (test.length !== undefined) argv.push('--length', String(test.length));
  if (test.reverse) argv.push('--reverse');
  if (test.bidir) argv.push('--bidir');
  return argv;
}

/** A line the client wrapper prints on stderr every half second: the interface's byte counters, for the live rate. */
export const RATE_SAMPLE_PREFIX = 'netdiag-bytes';

/**
 * The client as exec'd. iperf3 writes its JSON to a log file; meanwhile the interface towards the server is sampled
 * on stderr ({@link RATE_SAMPLE_PREFIX} TX RX) for the live rate; then the file is printed and removed and the status
 * is iperf3's. Arguments are positional parameters of sh, never pasted into the script.
 */
export function clientArgv(server: string, test: IperfTest): string[] {
  const script = [
    `rm -f ${CLIENT_LOGFILE}`,
    'server=$1; shift',
    `"$@" --logfile ${CLIENT_LOGFILE} & pid=$!`,
    `dev=$(ip -o route get "$server" 2>/dev/null | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p')`,
    'while kill -0 $pid 2>/dev/null; do',
    `  [ -n "$dev" ] && echo "${RATE_SAMPLE_PREFIX} $(cat /sys/class/net/$dev/statistics/tx_bytes) $(cat /sys/class/net/$dev/statistics/rx_bytes)" >&2`,
    '  sleep 0.5',
    'done',
    'wait $pid; status=$?',
    `cat ${CLIENT_LOGFILE}; rm -f ${CLIENT_LOGFILE}; exit $status`,
  ].join('\n');
  return ['sh', '-c', script, 'iperf3-client', server, ...clientIperfArgv(server, test)];
}

/** Reads one stderr line of the client wrapper: the byte counters, or undefined for any other line. */
export function parseRateSample(line: string): { readonly tx: number; readonly rx: number } | undefined {
  const match = new RegExp(`^${RATE_SAMPLE_PREFIX} (\\d+) (\\d+)$`).exec(line.trim());
  return match ? { tx: Number(match[1]), rx: Number(match[2]) } : undefined;
}

/** One direction of one test, as measured. */
export interface DirectionResult {
  /** The direction's data: `forward` client→server, `reverse` server→client. */
  readonly direction: 'forward' | 'reverse';
  /** Received bits/s: what arrived. */
  readonly bitsPerSecond: number;
  /** Sent bits/s. */
  readonly sentBitsPerSecond: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** TCP retransmits counted by the sender; undefined for UDP. */
  readonly retransmits: number | undefined;
  /** Mean smoothed RTT over the streams in ms, where the client is the sender; undefined otherwise. */
  readonly rttMs: number | undefined;
  /** UDP only. */
  readonly jitterMs: number | undefined;
  readonly lostPackets: number | undefined;
  readonly packets: number | undefined;
  readonly lostPercent: number | undefined;
  /** CPU use of the iperf3 processes (% of one CPU) at the sending and the receiving end. */
  readonly cpu: { readonly sender: number; readonly receiver: number } | undefined;
}

export type TestOutcome =
  | { readonly ok: true; readonly protocol: Protocol; readonly results: readonly DirectionResult[] }
  | { readonly ok: false; readonly error: string };

interface Sum {
  readonly bytes?: number;
  readonly bits_per_second?: number;
  readonly retransmits?: number;
  readonly jitter_ms?: number;
  readonly lost_packets?: number;
  readonly packets?: number;
  readonly lost_percent?: number;
  /** True when the client is the sender of this sum's data. */
  readonly sender?: boolean;
}

interface StreamEnd {
  readonly mean_rtt?: number;
  readonly sender?: boolean;
}

interface IperfJson {
  readonly error?: string;
  readonly start?: { readonly test_start?: { readonly protocol?: string } };
  readonly end?: {
    readonly streams?: readonly { readonly sender?: StreamEnd }[];
    readonly sum_sent?: Sum;
    readonly sum_received?: Sum;
    readonly sum_sent_bidir_reverse?: Sum;
    readonly sum_received_bidir_reverse?: Sum;
    readonly cpu_utilization_percent?: { readonly host_total?: number; readonly remote_total?: number };
  };
}

/**
 * Reads the client's JSON. `stdout` is what {@link clientArgv} printed; `stderr` and the exit code explain a run
 * that printed no JSON (iperf3 missing, killed by the bound).
 */
export function parseIperfJson(stdout: string, stderr = '', exitCode = 0): TestOutcome {
  const start = stdout.indexOf('{');
  let json: IperfJson;
  try {
    json = JSON.parse(start >= 0 ? stdout.slice(start) : stdout) as IperfJson;
  } catch {
    const said = (stderr.trim() || stdout.trim()).split('\n').slice(-1)[0] ?? '';
    if (exitCode === 124) return { ok: false, error: 'iperf3 did not finish in time (killed by its bound)' };
    return { ok: false, error: said ? `iperf3 printed no JSON: ${said}` : `iperf3 printed nothing (exit ${exitCode})` };
  }
  if (json.error) return { ok: false, error: json.error };
  const end = json.end;
  if (!end?.sum_received || !end.sum_sent) return { ok: false, error: 'iperf3 JSON without end sums' };
  const protocol: Protocol = json.start?.test_start?.protocol === 'UDP' ? 'udp' : 'tcp';
  const cpu = end.cpu_utilization_percent;
  const direction = (sent: Sum, received: Sum): DirectionResult => {
    const clientSends = sent.sender ?? true;
    const rtts = (end.streams ?? [])
      .map((stream) => stream.sender)
      .filter((side): side is StreamEnd => side?.sender === clientSends && (side.mean_rtt ?? 0) > 0)
      .map((side) => side.mean_rtt ?? 0);
    const client = cpu?.host_total;
    const server = cpu?.remote_total;
    return {
      direction: clientSends ? 'forward' : 'reverse',
      bitsPerSecond: received.bits_per_second ?? 0,
      sentBitsPerSecond: sent.bits_per_second ?? 0,
      bytesSent: sent.bytes ?? 0,
      bytesReceived: received.bytes ?? 0,
      retransmits: protocol === 'tcp' ? (sent.retransmits ?? 0) : undefined,
      rttMs:
        protocol === 'tcp' && clientSends && rtts.length > 0
          ? rtts.reduce((a, b) => a + b, 0) / rtts.length / 1000
          : undefined,
      jitterMs: protocol === 'udp' ? received.jitter_ms : undefined,
      lostPackets: protocol === 'udp' ? received.lost_packets : undefined,
      packets: protocol === 'udp' ? received.packets : undefined,
      lostPercent: protocol === 'udp' ? received.lost_percent : undefined,
      cpu:
        client === undefined || server === undefined
          ? undefined
          : clientSends
            ? { sender: client, receiver: server }
            : { sender: server, receiver: client },
    };
  };
  const results = [direction(end.sum_sent, end.sum_received)];
  if (end.sum_sent_bidir_reverse && end.sum_received_bidir_reverse) {
    results.push(direction(end.sum_sent_bidir_reverse, end.sum_received_bidir_reverse));
  }
  return { ok: true, protocol, results };
}
