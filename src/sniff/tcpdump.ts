/**
 * The remote capture command. Everything here is argv: the user's filter and interface are separate arguments to
 * tcpdump and to a constant wrapper script, never pasted into a shell string.
 */

export interface TcpdumpSpec {
  /** `-i`; `any` captures every interface of the network namespace (link type SLL or SLL2). */
  readonly interface: string;
  /** BPF filter as the user typed it; tcpdump joins its trailing arguments with spaces itself. */
  readonly filter: string | undefined;
  readonly snaplen: number | undefined;
  readonly count: number | undefined;
  /**
   * --immediate-mode: packets leave the kernel as they arrive instead of when a ring block fills or its 1 s timeout
   * passes. Lower latency (live viewers, time to first packet) at more CPU per packet, which costs throughput on a
   * busy node; so it is the default for live viewers only.
   */
  readonly immediate: boolean;
}

/**
 * `tcpdump -U -n [--immediate-mode] -w - -i IFACE [-s N] [-c N] [FILTER]`.
 * -U flushes after every packet so the stream never sits in a stdio buffer; -n keeps a static tcpdump from calling
 * into NSS.
 */
export function tcpdumpArgv(binary: string, spec: TcpdumpSpec): string[] {
  const argv = [binary, '-U', '-n', ...(spec.immediate ? ['--immediate-mode'] : []), '-w', '-', '-i', spec.interface];
  if (spec.snaplen !== undefined) argv.push('-s', String(spec.snaplen));
  if (spec.count !== undefined) argv.push('-c', String(spec.count));
  if (spec.filter !== undefined && spec.filter.trim() !== '') argv.push(spec.filter);
  return argv;
}

/**
 * Seconds the remote capture may run at most when the user gave no --duration. A live capture is normally stopped
 * by the user long before; this is the outer bound should every other stop fail.
 */
export const DEFAULT_MAX_CAPTURE_SECONDS = 4 * 3600;

/** The client sends a heartbeat line this often; the remote side stops capturing after {@link HEARTBEAT_TIMEOUT_SECONDS} without one. */
export const HEARTBEAT_INTERVAL_MS = 5000;
export const HEARTBEAT_TIMEOUT_SECONDS = 30;
/** How long an idle netdiag ephemeral container stays reusable after its last capture ended. */
export const IDLE_GRACE_SECONDS = 600;
/** What the capture wrapper writes on stderr once the capture has ended: `netdiag-capture-end STATUS`. */
export const CAPTURE_END_MARKER = 'netdiag-capture-end';
/** The line that asks the remote capture to stop (flush, print statistics, exit 0). */
export const STOP_LINE = 'stop\n';
export const HEARTBEAT_LINE = '\n';

/**
 * The wrapper that bounds a remote capture. Positional parameters: $1 hard limit in seconds, $2 state directory,
 * $3 heartbeat timeout in seconds, $4 idle grace in seconds, then the capture argv (run as is, never re-parsed).
 *
 * It stops the capture with SIGTERM (tcpdump flushes, prints its drop statistics and exits 0; SIGKILL 5 s later if
 * it does not) when
 *  - the client sends the line "stop", or stdin reaches EOF (the exec stream was closed: the client is gone);
 *  - no line arrived on stdin for the heartbeat timeout: the client died or its connection is gone, and exec'd
 *    processes otherwise outlive their client (kubernetes#89031);
 *  - the hard limit passes.
 * It keeps a lease file `capture.<pid>` in the state directory holding "alive until": the capture's deadline while
 * it runs, the idle grace after it ends. The idle process of a netdiag ephemeral container lives only while some
 * lease is in the future (see IDLE_SCRIPT), and so does the watchdog of an uploaded tcpdump (see UPLOAD_SCRIPT), so
 * reused containers and kept uploads stay bounded too.
 *
 * When the capture has ended it writes {@link CAPTURE_END_MARKER} on stderr (after tcpdump's statistics) and stays
 * until the client closes stdin, at most the heartbeat timeout: the exec stream ends only when the process does,
 * and an exec stream that ends while the API server or kubelet still holds stdout the client has not read yet
 * can lose that tail (kubernetes#124571). The client closes stdin once it has received as many packets as tcpdump
 * says it captured. With an idle grace of 0 nothing reuses the directory and the wrapper removes it. The wrapper
 * exits with the capture's status so tcpdump's own errors (bad filter, unknown interface) reach the client.
 */
export const CAPTURE_WRAPPER_SCRIPT = [
  'limit=$1; dir=$2; hbmax=$3; grace=$4; shift 4',
  'mkdir -p "$dir" || exit 96',
  // Files are replaced with rename, never rewritten in place: a reader racing a writer would see an empty file
  // (and an empty heartbeat reads as "none for ages", which once stopped a healthy capture).
  'put() { echo "$2" > "$dir/.$3.$$" && mv -f "$dir/.$3.$$" "$1"; }',
  'start=$(date +%s); deadline=$(( start + limit ))',
  'for f in "$dir"/capture.[0-9]*; do v=$(cat "$f" 2>/dev/null); [ -z "$v" ] || [ "$v" -gt "$start" ] || rm -f "$f"; done',
  'lease="$dir/capture.$$"; hb="$dir/heartbeat.$$"',
  'put "$lease" $(( deadline + 60 )) lease; put "$hb" "$start" hb',
  'exec 3<&0',
  '"$@" </dev/null &',
  'capture=$!',
  '( while IFS= read -r line <&3; do',
  '    if [ "$line" = stop ]; then kill -TERM $capture 2>/dev/null; else put "$hb" "$(date +%s)" hb; fi',
  '  done',
  '  kill -TERM $capture 2>/dev/null ) &',
  'reader=$!',
  '( while kill -0 $capture 2>/dev/null; do',
  '    now=$(date +%s); last=$(cat "$hb" 2>/dev/null); [ -n "$last" ] || last=$now',
  '    if [ "$now" -ge "$deadline" ] || [ $(( now - last )) -gt "$hbmax" ]; then',
  '      kill -TERM $capture 2>/dev/null; sleep 5; kill -KILL $capture 2>/dev/null; break',
  '    fi',
  '    sleep 1',
  '  done ) &',
  'watchdog=$!',
  'wait $capture; status=$?',
  'kill $watchdog 2>/dev/null',
  'echo "netdiag-capture-end $status" >&2',
  '( n=0; while [ $n -lt "$hbmax" ] && kill -0 $reader 2>/dev/null; do sleep 1; n=$((n + 1)); done',
  '  kill $reader 2>/dev/null ) &',
  'wait $reader',
  'if [ "$grace" -gt 0 ]; then put "$lease" $(( $(date +%s) + grace )) lease; rm -f "$hb"; else rm -rf "$dir"; fi',
  'exit $status',
].join('\n');

export interface CaptureBounds {
  /** Hard limit in seconds (the user's --duration plus a margin, or the default maximum). */
  readonly limitSeconds: number;
  /** Directory for lease and heartbeat files (writable by the capture's user). */
  readonly stateDir: string;
  readonly heartbeatTimeoutSeconds?: number;
  readonly idleGraceSeconds?: number;
}

/** `sh -c WRAPPER netdiag-capture LIMIT DIR HB GRACE CAPTURE_ARGV...` */
export function boundedCaptureArgv(shell: string, bounds: CaptureBounds, capture: readonly string[]): string[] {
  return [
    shell,
    '-c',
    CAPTURE_WRAPPER_SCRIPT,
    'netdiag-capture',
    String(Math.max(1, Math.ceil(bounds.limitSeconds))),
    bounds.stateDir,
    String(bounds.heartbeatTimeoutSeconds ?? HEARTBEAT_TIMEOUT_SECONDS),
    String(bounds.idleGraceSeconds ?? IDLE_GRACE_SECONDS),
    ...capture,
  ];
}

/**
 * The idle process of a netdiag ephemeral container. $1 state directory, $2 initial idle seconds. It lives while any
 * lease file in the directory holds a time in the future and exits when all have run out, which ends the container
 * and, because the container has its own PID namespace, every capture still running in it.
 */
export const IDLE_SCRIPT = [
  'dir=$1; mkdir -p "$dir"',
  // PID 1 ignores SIGTERM without a handler: exit at once so deleting the pod is not held up by the grace period.
  "trap 'exit 0' TERM",
  'echo $(( $(date +%s) + $2 )) > "$dir/.idle" && mv -f "$dir/.idle" "$dir/capture.idle"',
  'while :; do',
  '  now=$(date +%s); alive=',
  // An empty lease is one being written: alive (captures replace leases with rename, but be safe).
  '  for f in "$dir"/capture.*; do v=$(cat "$f" 2>/dev/null); if [ -z "$v" ] || [ "$v" -gt "$now" ]; then alive=1; fi; done',
  '  [ -n "$alive" ] || exit 0',
  '  sleep 2',
  'done',
].join('\n');

export function idleArgv(stateDir: string, idleSeconds: number): string[] {
  return ['sh', '-c', IDLE_SCRIPT, 'netdiag-idle', stateDir, String(idleSeconds)];
}

/** How long an uploaded tcpdump waits in its container for the capture that uses it before it removes itself. */
export const UPLOAD_START_WINDOW_SECONDS = 300;
/**
 * How long an uploaded tcpdump stays in its container after its last capture ended, for the next run on the same
 * container to reuse (a second capture of the same pod then starts without uploading); `cleanup` removes it sooner.
 */
export const UPLOAD_KEEP_SECONDS = 600;
/** The uploaded tcpdump's directory, under the container's first writable directory. */
export const UPLOAD_DIR_NAME = 'netdiag-tcpdump';

/**
 * Upload mode's upload: extracts the tar archive on stdin into $1 and checks that the binary runs there (a noexec
 * /tmp, a wrong architecture). A cut upload (client killed, connection lost) ends tar with an error and the partial
 * directory goes with it. A complete one gets a lease of $2 seconds (for the capture that follows) and a watchdog
 * that lives as long as the directory does: it removes the directory once no lease in it is in the future, so an
 * upload is removed at most $2 seconds after it was made when no capture starts (client killed in between), and
 * UPLOAD_KEEP_SECONDS after its last capture ended. Its pid is in watchdog.pid: the probe reuses an upload only when
 * its watchdog still runs. Its output goes to /dev/null: an exec stream ends only when every holder of its stdout and
 * stderr has closed them.
 */
export const UPLOAD_SCRIPT = [
  'dir=$1; window=$2',
  'mkdir -p "$dir" && tar -xf - -C "$dir" || { rm -rf "$dir"; exit 1; }',
  'if ! "$dir/tcpdump" --version >/dev/null 2>"$dir/.version"; then cat "$dir/.version" >&2; rm -rf "$dir"; exit 2; fi',
  'rm -f "$dir/.version"',
  'echo $(( $(date +%s) + window )) > "$dir/.lease" && mv -f "$dir/.lease" "$dir/capture.upload"',
  '( while [ -d "$dir" ]; do',
  '    now=$(date +%s); alive=',
  '    for f in "$dir"/capture.*; do',
  '      [ -e "$f" ] || continue; v=$(cat "$f" 2>/dev/null)',
  '      if [ -z "$v" ] || [ "$v" -gt "$now" ]; then alive=1; fi',
  '    done',
  '    [ -n "$alive" ] || { rm -rf "$dir"; exit 0; }',
  '    sleep 2',
  '  done ) </dev/null >/dev/null 2>&1 &',
  'echo $! > "$dir/watchdog.pid"',
].join('\n');

export function uploadArgv(dir: string, windowSeconds = UPLOAD_START_WINDOW_SECONDS): string[] {
  return ['sh', '-c', UPLOAD_SCRIPT, 'netdiag-upload', dir, String(windowSeconds)];
}

/**
 * Node mode: run the capture inside the network namespace of a container, found by its ID. The helper pod has
 * hostPID, so /proc lists every process on the node and each one's cgroup path contains its container's ID
 * (containerd, cri-o and docker alike). $1 = container ID, the rest = the capture argv, run by nsenter.
 */
export const NSENTER_SCRIPT = [
  'id=$1; shift',
  // One grep over every process's cgroup file: a grep per process meant hundreds of forks, seconds on a busy node.
  'f=$(grep -lF -- "$id" /proc/[0-9]*/cgroup 2>/dev/null | head -n 1)',
  'if [ -z "$f" ]; then echo "netdiag: no process of container $id runs on this node" >&2; exit 97; fi',
  'pid=${f#/proc/}; pid=${pid%/cgroup}',
  'exec nsenter -t "$pid" -n -- "$@"',
].join('\n');

export function nsenterArgv(containerId: string, capture: readonly string[]): string[] {
  return ['sh', '-c', NSENTER_SCRIPT, 'netdiag-nsenter', containerId, ...capture];
}

/** Where tcpdump's "unknown interface" / "bad filter" messages come from: these are the user's input (exit 2). */
export function isUsageFailure(stderr: string): boolean {
  return [
    /syntax error/i,
    /can't parse filter expression/i,
    /illegal (token|qualifier|port|host)/i,
    /unknown (host|port|protocol|network|ether host)/i,
    /no such device/i,
    /that device doesn't support/i,
    /there is no device named/i,
    /is not (a valid|an up) interface/i,
    /bpf.*(invalid|too)/i,
    /expression rejects all packets/i,
    /(snaplen|count|-s|-c).*(invalid|must be)/i,
  ].some((re) => re.test(stderr));
}

/** tcpdump's own message lines, without its banner ("listening on ...") and statistics lines. */
export function tcpdumpErrorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(
      (line) =>
        line !== '' &&
        !/^(listening on|tcpdump: (verbose output|listening|data link type)|\d+ packets? (captured|received|dropped)|netdiag-capture-end |netdiag-self-exclusion )/.test(
          line,
        ) &&
        !/^Warning: /i.test(line),
    );
}
