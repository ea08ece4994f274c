#!/usr/bin/env bash
# CLI start-up of the release binary against kubectl itself, measured side by side in one run.
#
#   bench/startup.sh [BINARY] [RUNS]
#
# BINARY: the single executable to measure (default: release/build/linux_amd64/kubectl-netdiag, made by
# `npm run release -- --platforms linux/amd64`). Measured two ways, both against the baseline
# `kubectl version --client`:
#   direct:   `kubectl-netdiag version --client` (the release binary itself; the ratio the goal applies to)
#   dispatch: `kubectl netdiag version --client`, the binary on PATH as kubectl-netdiag in a temporary
#             directory, through kubectl's plugin dispatch exactly as after `krew install` (informational:
#             it adds one whole kubectl start-up, so it is about 1 + the direct ratio)
# `version --client` is the plugin's counterpart of `kubectl version --client`: neither contacts a cluster.
# Runs alternate (direct, dispatch, baseline, direct, ...) so that load from other work on the machine hits all
# alike; 3 warm-up rounds are discarded. Prints the medians and ratios, and exits 1 when the direct ratio is
# above the goal (GOAL, default 2.0).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="${1:-$repo_root/release/build/linux_amd64/kubectl-netdiag}"
runs="${2:-31}"
goal="${GOAL:-2.0}"
kubectl_bin="$(command -v kubectl)"

if [[ ! -x "$binary" ]]; then
  echo "startup: $binary is missing; build it with: npm run release -- --platforms linux/amd64" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ln -s "$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")" "$tmp/kubectl-netdiag"
export PATH="$tmp:$(dirname "$kubectl_bin"):/usr/bin:/bin"
export KUBECONFIG="$tmp/none"

direct=("$tmp/kubectl-netdiag" version --client)
plugin=(kubectl netdiag version --client)
baseline=(kubectl version --client)
for cmd in direct plugin; do
  declare -n argv=$cmd
  "${argv[@]}" >/dev/null || {
    echo "startup: '${argv[*]}' failed" >&2
    exit 2
  }
done

# Wall-clock milliseconds (with microseconds) of one run of "$@".
elapsed_ms() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s%N)
  echo "scale=3; ($end - $start) / 1000000" | bc
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for _ in 1 2 3; do
  "${direct[@]}" >/dev/null 2>&1
  "${plugin[@]}" >/dev/null 2>&1
  "${baseline[@]}" >/dev/null 2>&1
done
: >"$tmp/direct.ms"
: >"$tmp/plugin.ms"
: >"$tmp/baseline.ms"
for ((i = 0; i < runs; i++)); do
  elapsed_ms "${direct[@]}" >>"$tmp/direct.ms"
  elapsed_ms "${plugin[@]}" >>"$tmp/plugin.ms"
  elapsed_ms "${baseline[@]}" >>"$tmp/baseline.ms"
done

direct_median=$(median <"$tmp/direct.ms")
plugin_median=$(median <"$tmp/plugin.ms")
baseline_median=$(median <"$tmp/baseline.ms")
ratio=$(echo "scale=2; $direct_median / $baseline_median" | bc)
dispatch_ratio=$(echo "scale=2; $plugin_median / $baseline_median" | bc)
printf 'runs: %d each, interleaved; binary: %s (%s bytes)\n' "$runs" "$binary" "$(stat -c %s "$binary")"
printf 'kubectl-netdiag version --client  median %8.1f ms  (release binary)\n' "$direct_median"
printf 'kubectl netdiag version --client  median %8.1f ms  (through kubectl plugin dispatch)\n' "$plugin_median"
printf 'kubectl version --client          median %8.1f ms  (baseline)\n' "$baseline_median"
printf 'ratio %.2f (goal <= %s); through kubectl dispatch %.2f\n' "$ratio" "$goal" "$dispatch_ratio"
if (($(echo "$ratio > $goal" | bc))); then exit 1; fi
