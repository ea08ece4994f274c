/**
 * The fixed scripts `node` runs on every node through the node-inspector profile (privileged, hostNetwork, hostPID,
 * host `/` read-only at /host). Two execs per node: `discover` finds the node's own runtime, kubelet and kube-proxy
 * processes and prints their command lines and config files; `inspect` (told by the engine where the runtime keeps
 * its CNI config and binaries) prints everything else. Nothing on the node is changed.
 *
 * Why processes and not fixed paths: a node's runtime may keep its config anywhere (`containerd --config …`), and
 * on the lab every worker is a network namespace sharing one host filesystem, so /host/etc/cni/net.d is not the
 * node's. A process in the same network namespace as this hostNetwork pod is the node's own (on a real node that is
 * the host's namespace), and its files are read through /proc/PID/root — its own view of the filesystem, right for a
 * daemon on the host and for kube-proxy in a container alike.
 *
 * Output format (parsed by `parseSections` in parse.ts): every command's stdout between `@@netdiag:begin NAME` and
 * `@@netdiag:end NAME STATUS` lines (the script adds one newline before the end line; the parser removes it), and its
 * stderr, when there is any, as a section `NAME!stderr`. No value from the user is ever pasted into the script: the
 * engine's settings arrive as `key=value` arguments and are only used as data.
 */

import { COUNTERS_SCRIPT } from './counters.js';

/** Marker prefixes of the sections; a line of command output starting like this would be misread (none does). */
export const SECTION_BEGIN = '@@netdiag:begin';
export const SECTION_END = '@@netdiag:end';

/** Daemons whose command line and config tell where things are (comm names, as in /proc/PID/comm). */
const NODE_DAEMONS = ['containerd', 'crio', 'dockerd', 'cri-dockerd', 'kubelet', 'kube-proxy'];

const SECTION_FUNCTION = `
err=$(mktemp)
trap 'rm -f "$err"' EXIT
section() {
  local name=$1 rc
  shift
  printf '${SECTION_BEGIN} %s\\n' "$name"
  "$@" 2>"$err"
  rc=$?
  printf '\\n${SECTION_END} %s %d\\n' "$name" "$rc"
  if [ -s "$err" ]; then
    printf '${SECTION_BEGIN} %s!stderr\\n' "$name"
    head -c 4096 "$err"
    printf '\\n${SECTION_END} %s!stderr 0\\n' "$name"
  fi
}
`;

/**
 * Prints `netns`, then for every daemon of {@link NODE_DAEMONS} in this pod's network namespace a section
 * `process PID COMM` (argv, one per line) and `file PID PATH` for its config files: the ones its argv names
 * (`--config`, `-c`, `--config-file`) and the runtime's defaults.
 */
export const DISCOVER_SCRIPT =
  SECTION_FUNCTION +
  `
self=$(readlink /proc/self/ns/net)
section netns readlink /proc/self/ns/net
config_file() {
  local pid=$1 path=$2
  case $path in /*) ;; *) path=$(readlink "/proc/$pid/cwd")/$path ;; esac
  [ -f "/proc/$pid/root$path" ] && section "file $pid $path" head -c 262144 "/proc/$pid/root$path"
}
for dir in /proc/[0-9]*; do
  comm=$(cat "$dir/comm" 2>/dev/null) || continue
  case $comm in ${NODE_DAEMONS.join('|')}) ;; *) continue ;; esac
  [ "$(readlink "$dir/ns/net" 2>/dev/null)" = "$self" ] || continue
  pid=\${dir#/proc/}
  section "process $pid $comm" tr '\\0' '\\n' <"$dir/cmdline"
  mapfile -d '' argv <"$dir/cmdline"
  named=0
  for ((i = 1; i < \${#argv[@]}; i++)); do
    arg=\${argv[i]}
    case $arg in
      --config=* | --config-file=*) config_file "$pid" "\${arg#*=}"; named=1 ;;
      --config | -c | --config-file) config_file "$pid" "\${argv[i+1]:-}"; named=1 ;;
    esac
  done
  case $comm in
    containerd) [ $named = 1 ] || config_file "$pid" /etc/containerd/config.toml ;;
    crio)
      [ $named = 1 ] || config_file "$pid" /etc/crio/crio.conf
      for f in "/proc/$pid/root/etc/crio/crio.conf.d"/*; do [ -f "$f" ] && config_file "$pid" "/etc/crio/crio.conf.d/\${f##*/}"; done
      ;;
    dockerd) [ $named = 1 ] || config_file "$pid" /etc/docker/daemon.json ;;
  esac
done
`;

/**
 * kube-proxy's Service rules in every form: the counters (NIC statistics and every firewall backend: counters.ts,
 * shared with bw), its nftables maps, the ClusterIPs on kube-ipvs0. Part of `inspect`, and alone (RULES_SCRIPT)
 * when the engine reads the rules again.
 */
const RULES_PART = `
counters() {
${COUNTERS_SCRIPT}
}
section counters counters
kube_proxy_nft() { nft list map ip kube-proxy service-ips && nft list map ip kube-proxy no-endpoint-services; }
section kube-proxy-nft-services kube_proxy_nft
section kube-ipvs0 ip -j addr show dev kube-ipvs0
`;

export const RULES_SCRIPT = SECTION_FUNCTION + RULES_PART;

/** What `inspect` needs to know, from what `discover` found (see plan.ts). Paths are as the runtime sees them. */
export interface InspectPlan {
  /** Where the runtime's filesystem is seen from the helper pod: `/proc/PID/root` of the runtime, or `/host`. */
  readonly root: string;
  readonly cniConfDir: string;
  readonly cniBinDirs: readonly string[];
  /** containerd's state directory (its task bundles are the "runtime state" list of containers without crictl). */
  readonly containerdState?: string;
  /** The runtime's CRI socket path (for crictl, when the node has it). */
  readonly criSocket?: string;
  /** kube-proxy's metrics and healthz addresses (host:port). */
  readonly kubeProxyMetrics: string;
  readonly kubeProxyHealthz: string;
  /** Container ids to show in full (`--pod`): crictl inspect, or the runtime's own record. */
  readonly inspectContainers: readonly string[];
  /** Everything raw for `--bundle` (all sysctls, ip6tables, nft ruleset, neighbours...), not only what checks read. */
  readonly full: boolean;
}

/**
 * Prints the sections parse.ts reads: ip (addr, route, rule; neighbours with `full`), sysctls, conntrack, the
 * counters (NIC statistics and every firewall backend's rules: counters.ts, shared with bw), kube-proxy's mode,
 * health and nftables/ipvs state, CNI config files and binary names, containers.
 */
export const INSPECT_SCRIPT =
  SECTION_FUNCTION +
  `
root=/host conf=/etc/cni/net.d bins=/opt/cni/bin state= socket= metrics=127.0.0.1:10249 healthz=127.0.0.1:10256 full=0
inspect=()
for arg in "$@"; do
  case $arg in
    root=*) root=\${arg#root=} ;;
    conf=*) conf=\${arg#conf=} ;;
    bins=*) bins=\${arg#bins=} ;;
    state=*) state=\${arg#state=} ;;
    socket=*) socket=\${arg#socket=} ;;
    metrics=*) metrics=\${arg#metrics=} ;;
    healthz=*) healthz=\${arg#healthz=} ;;
    full=*) full=\${arg#full=} ;;
    inspect=*) inspect+=("\${arg#inspect=}") ;;
  esac
done
section uname uname -r
section ip-addr ip -j -d addr show
section ip-route ip -j -d route show table all
section ip-rule ip -j rule show
section sysctl grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding \\
  /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables \\
  /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/netfilter/nf_conntrack_count \\
  /proc/sys/net/netfilter/nf_conntrack_max /proc/sys/net/ipv4/conf/*/rp_filter
section conntrack-stats conntrack -S
${RULES_PART}
section kube-proxy-mode curl -sS -m 2 "http://$metrics/proxyMode"
section kube-proxy-healthz curl -sS -m 2 "http://$healthz/healthz"
section ss ss -s
for f in "$root$conf"/*; do
  [ -f "$f" ] && section "cni-file \${f##*/}" head -c 65536 "$f"
done
IFS=: read -r -a bindirs <<<"$bins"
for d in "\${bindirs[@]}"; do
  [ -d "$root$d" ] && section "cni-bin $d" ls -1 "$root$d"
done
crictl=
for c in crictl "$root/usr/local/bin/crictl" "$root/usr/bin/crictl"; do
  command -v "$c" >/dev/null 2>&1 && { crictl=$c; break; }
done
if [ -n "$crictl" ] && [ -n "$socket" ]; then
  cri() { timeout 10 "$crictl" --runtime-endpoint "unix://$root$socket" "$@"; }
  section crictl-version cri version
  section crictl-ps cri ps -o json
  for id in "\${inspect[@]}"; do section "inspect $id" cri inspect "$id"; done
elif [ -n "$state" ] && [ -d "$root$state/io.containerd.runtime.v2.task/k8s.io" ]; then
  tasks=$root$state/io.containerd.runtime.v2.task/k8s.io
  containers() {
    for t in "$tasks"/*/; do
      id=\${t%/}
      id=\${id##*/}
      jq -c --arg id "$id" '{id: $id, annotations: (.annotations // {})}' "$t/config.json" 2>/dev/null
    done
  }
  section containerd-tasks containers
  for id in "\${inspect[@]}"; do
    [ -f "$tasks/$id/config.json" ] && section "inspect $id" jq -c --arg pid "$(cat "$tasks/$id/init.pid" 2>/dev/null)" \\
      '{pid: ($pid | tonumber? // null), annotations, process: {args: .process.args, cwd: .process.cwd}, root: .root, mounts: [.mounts[] | {destination, source, type}], namespaces: .linux.namespaces, cgroupsPath: .linux.cgroupsPath}' \\
      "$tasks/$id/config.json"
  done
fi
if [ "$full" = 1 ]; then
  section ip-neigh ip -j neigh show
  section sysctl-all sysctl -a -e --pattern '^net\\.'
fi
`;

/** `bash -c SCRIPT NAME ARGS...`: the script is a constant, ARGS are data ($1...), never parsed as shell. */
export const discoverArgv = (): string[] => ['bash', '-c', DISCOVER_SCRIPT, 'netdiag-node-discover'];

export const rulesArgv = (): string[] => ['bash', '-c', RULES_SCRIPT, 'netdiag-node-rules'];

export function inspectArgv(plan: InspectPlan): string[] {
  const args = [
    `root=${plan.root}`,
    `conf=${plan.cniConfDir}`,
    `bins=${plan.cniBinDirs.join(':')}`,
    `metrics=${plan.kubeProxyMetrics}`,
    `healthz=${plan.kubeProxyHealthz}`,
    `full=${plan.full ? 1 : 0}`,
  ];
  if (plan.containerdState) args.push(`state=${plan.containerdState}`);
  if (plan.criSocket) args.push(`socket=${plan.criSocket}`);
  for (const id of plan.inspectContainers) args.push(`inspect=${id}`);
  return ['bash', '-c', INSPECT_SCRIPT, 'netdiag-node-inspect', ...args];
}
