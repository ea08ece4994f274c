/**
 * Many probes in one exec: a node's probe pod runs its whole share of the plan in parallel (bounded) and prints every
 * probe's exit status, time and output in one answer. One exec per node and phase instead of one per probe keeps
 * the run fast and its API requests few (3 nodes: ~60 probes in 3 execs). Probes travel as argv, never pasted into
 * a shell string: the script only ever runs `"$@"` slices of its own arguments.
 */

export interface BatchCommand {
  readonly argv: readonly string[];
  /** Seconds after which `timeout` stops it (exit 124). */
  readonly timeoutSeconds: number;
}

/** What one command of the batch did. */
export interface BatchResult {
  readonly exitCode: number;
  /** Wall time in the pod, from start to exit (not the exec's round trip). */
  readonly elapsedMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `bash -c` script: `$1` is how many commands may run at once, then each command as `TIMEOUT COUNT ARGV...`. Every
 * command gets the same stdin line (UDP echo probes send it; ping, nc -z and curl ignore it). Output: one line per
 * command, in order: `INDEX EXIT ELAPSED_MS BASE64(stdout) BASE64(stderr)`.
 */
// `\${` and `\\n` below reach bash as `${` and `\n`.
export const BATCH_SCRIPT = `set -u
parallel=$1; shift
dir=$(mktemp -d) || exit 125
trap 'rm -rf "$dir"' EXIT
now_us() { local t=$EPOCHREALTIME; echo "\${t/./}"; }
run() {
  local index=$1 bound=$2 start rc; shift 2
  start=$(now_us)
  timeout -k 1 "$bound" "$@" >"$dir/$index.out" 2>"$dir/$index.err" <<<netdiag-check
  rc=$?
  echo "$rc $(( ($(now_us) - start) / 1000 ))" >"$dir/$index.rc"
}
count=0
while [ $# -gt 0 ]; do
  bound=$1 words=$2; shift 2
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
  run "$count" "$bound" "\${@:1:$words}" &
  shift "$words"
  count=$((count + 1))
done
wait
for ((i = 0; i < count; i++)); do
  printf '%s %s %s %s\\n' "$i" "$(cat "$dir/$i.rc")" "$(base64 -w0 <"$dir/$i.out")" "$(base64 -w0 <"$dir/$i.err")"
done
`;

/** The argv of one batch exec (pass it to the fleet's exec, which bounds the whole). */
export function batchArgv(commands: readonly BatchCommand[], parallel: number): string[] {
  if (!Number.isInteger(parallel) || parallel < 1) throw new RangeError(`batch parallelism ${parallel}`);
  const argv = ['bash', '-c', BATCH_SCRIPT, 'netdiag-check', String(parallel)];
  for (const command of commands) {
    if (command.argv.length === 0) throw new RangeError('empty probe command');
    argv.push(String(Math.ceil(command.timeoutSeconds)), String(command.argv.length), ...command.argv);
  }
  return argv;
}

/** The time the whole batch may take: rounds of `parallel` commands, each at most its bound plus the kill grace. */
export function batchBoundSeconds(commands: readonly BatchCommand[], parallel: number): number {
  const longest = Math.max(0, ...commands.map((command) => Math.ceil(command.timeoutSeconds) + 1));
  return Math.ceil(commands.length / parallel) * longest + 5;
}

/**
 * Reads the batch's answer: one result per command, in order. Throws when a command's line is missing or garbled (a
 * cut-off answer must not look like probes that printed nothing).
 */
export function parseBatchOutput(stdout: string, expected: number): BatchResult[] {
  const results: BatchResult[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const [index, exitCode, elapsedMs, out, err] = fields;
    if (
      fields.length !== 5 ||
      Number(index) !== results.length ||
      !/^\d+$/.test(exitCode ?? '') ||
      !/^\d+$/.test(elapsedMs ?? '')
    ) {
      throw new Error(`unexpected line ${results.length + 1} of the probe batch: ${line.slice(0, 200)}`);
    }
    results.push({
      exitCode: Number(exitCode),
      elapsedMs: Number(elapsedMs),
      stdout: Buffer.from(out ?? '', 'base64').toString('utf8'),
      stderr: Buffer.from(err ?? '', 'base64').toString('utf8'),
    });
  }
  if (results.length !== expected) {
    throw new Error(`the probe batch answered for ${results.length} of ${expected} probes`);
  }
  return results;
}
