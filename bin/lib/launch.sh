# Shared by bin/kubectl-netdiag and bin/kubectl_complete-netdiag (sourced, POSIX sh).
# Picks the Node to run dist with: the npm `node` package's Node 24 in node_modules when present, else `node` on
# PATH if it is 22 or newer (client-node 2.x needs 22+), else one error line and one fix line, exit 3.

netdiag_exec() {
  root=$1
  entry=$2
  shift 2
  if [ ! -f "$root/dist/$entry" ]; then
    echo "error: kubectl-netdiag is not built ($root/dist/$entry is missing)" >&2
    echo "fix: run \`npm ci && npm run build\` in $root" >&2
    exit 3
  fi
  node_bin="$root/node_modules/node/bin/node"
  if [ ! -x "$node_bin" ]; then
    node_bin=$(command -v node 2>/dev/null || true)
    found="none"
    if [ -n "$node_bin" ]; then
      found=$("$node_bin" -p 'process.versions.node' 2>/dev/null || echo unknown)
      major=${found%%.*}
      case $major in
        '' | *[!0-9]*) major=0 ;;
      esac
      if [ "$major" -lt 22 ]; then node_bin=""; fi
    fi
    if [ -z "$node_bin" ]; then
      echo "error: kubectl-netdiag needs Node.js 22 or newer (found: $found)" >&2
      echo "fix: run \`npm ci\` in $root (installs Node 24 locally) or put Node >= 22 first on PATH" >&2
      exit 3
    fi
  fi
  # V8's on-disk compile cache: the bundle is one 3 MB script, parsed and compiled on every start without it
  # (enableCompileCache() inside the bundle only reaches modules loaded after it, and there are none). Measured:
  # `version --client` 0.19-0.23 s of CPU without, 0.12-0.16 s with. The user's own setting wins.
  : "${NODE_COMPILE_CACHE:=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kubectl-netdiag/v8-compile-cache}"
  export NODE_COMPILE_CACHE
  # A fixed mmap threshold: glibc otherwise raises it after the first large block is freed, and from then on blocks
  # of that size come from the heap, which keeps up to twice that much unreturned. While capturing, the heap held
  # ~9 MiB, and ~21 MiB in one run of three (2 GiB captures: 106.7/95.4/94.9 MiB peak RSS → 93.2/92.1/90.4/90.5/90.8
  # with it; docs/sniff.md). The user's own setting wins.
  : "${MALLOC_MMAP_THRESHOLD_:=131072}"
  export MALLOC_MMAP_THRESHOLD_
  # The same Node flags as the single executable (NODE_FLAGS in scripts/release/lib/sea.ts says why).
  exec "$node_bin" --max-semi-space-size=1 --expose-gc "$root/dist/$entry" "$@"
}

# The package root of an executable in bin/ whose symlinks are already resolved.
netdiag_root() {
  (cd "$(dirname "$1")/.." && pwd)
}
