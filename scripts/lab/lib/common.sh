# shellcheck shell=bash
# Shared settings and helpers for scripts/lab. Addresses follow a kubespray cluster so that transcripts from
# kubespray clusters replay as written.

K8S_VERSION=${NETDIAG_LAB_K8S_VERSION:-v1.34.4}
COREDNS_VERSION=${NETDIAG_LAB_COREDNS_VERSION:-v1.14.7}
PAUSE_IMAGE=registry.k8s.io/pause:3.10
COREDNS_IMAGE=registry.k8s.io/coredns/coredns:$COREDNS_VERSION
TOOLS_IMAGE=${NETDIAG_TOOLS_IMAGE:-ghcr.io/kubectl-netdiag/tools:0.1.0}
TOOLS_IMAGE_ALIASES=(infoblox/dnstools:latest)

CACHE=${NETDIAG_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netdiag-lab}
# Machine-wide runtime state: network names, mounts and containerd roots are global, so a lab started from
# another checkout (a CI clone) is found and torn down from here too.
VAR_DIR=/var/lib/netdiag-lab
RUN_DIR=/run/netdiag-lab

BRIDGE=ndlab0
UNDERLAY_PREFIX=172.30.77
HOST_IP=$UNDERLAY_PREFIX.1
APISERVER_PORT=6443
ETCD_CLIENT_PORT=32379
ETCD_PEER_PORT=32380
SERVICE_CIDR=10.233.0.0/18
KUBERNETES_SVC_IP=10.233.0.1
DNS_SVC_IP=10.233.0.10
POD_CIDR=10.233.64.0/18
NODELOCALDNS_IP=169.254.25.10
CLUSTER_DOMAIN=cluster.local
NODE_DOMAIN=kube.local
FAULT_COMMENT=netdiag-lab-fault
# The outside world: a namespace beside the lab reached through the host (see lib/world.sh).
WORLD_NETNS=ndlab-world
WORLD_LINK=ndlab-world
WORLD_PREFIX=172.30.78
WORLD_CIDR=$WORLD_PREFIX.0/24
WORLD_GATEWAY=$WORLD_PREFIX.1
WORLD_RESOLVER=$WORLD_PREFIX.53
WORLD_WWW=$WORLD_PREFIX.80
WORLD_API=$WORLD_PREFIX.81
WORLD_ZONE=netdiag.test
WORLD_PYTHON=/usr/bin/python3

log() { printf 'lab: %s\n' "$*" >&2; }
die() {
  printf 'lab: error: %s\n' "$1" >&2
  [[ -n ${2:-} ]] && printf 'lab: fix: %s\n' "$2" >&2
  exit 1
}

worker_count() { cat "$LAB_STATE/workers" 2>/dev/null || echo "${WORKERS:-3}"; }
worker_name() { echo "worker$1"; }
worker_fqdn() { echo "worker$1.$NODE_DOMAIN"; }
worker_ip() { echo "$UNDERLAY_PREFIX.$((10 + $1))"; }
worker_pod_cidr() { echo "10.233.$((63 + $1)).0/24"; }
worker_netns() { echo "ndlab-worker$1"; }
worker_dir() { echo "$VAR_DIR/nodes/worker$1"; }
worker_run() { echo "$RUN_DIR/worker$1"; }
# Accepts worker2, worker2.kube.local or 2.
worker_index() {
  local n=${1%%.*}
  n=${n#worker}
  [[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= $(worker_count))) || die "unknown node '$1'" "use one of: $(seq -s ' ' -f 'worker%g' 1 "$(worker_count)")"
  echo "$n"
}
in_node() {
  local i=$1
  shift
  nsenter --net="/run/netns/$(worker_netns "$i")" -- "$@"
}
in_world() { nsenter --net="/run/netns/$WORLD_NETNS" -- "$@"; }

KUBECTL=${KUBECTL:-kubectl}
kc() { "$KUBECTL" --kubeconfig "$LAB_STATE/kubeconfig" "$@"; }

# Waits until a command succeeds; prints what it waited for when it gives up.
wait_for() {
  local what=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what" "see the logs in $LAB_STATE/logs/"
    sleep 1
  done
}

# Runs a command in the background in a session of its own, appending its output to LOG, holding none of this
# shell's descriptors but stdin/stdout/stderr: under `flock LOCK scripts/lab/lab up` the lock's descriptor is
# inherited, and a daemon holding it would keep the lab's lock taken for as long as it runs. $! is its pid.
spawn_detached() {
  local log=$1
  shift
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid "$@" >>"$log" 2>&1 </dev/null
  ) &
}

# Starts a long-running process detached from this shell, with its pid in $LAB_STATE/pids/NAME.pid.
start_daemon() {
  local name=$1
  shift
  mkdir -p "$LAB_STATE/pids" "$LAB_STATE/logs"
  spawn_detached "$LAB_STATE/logs/$name.log" "$@"
  echo $! >"$LAB_STATE/pids/$name.pid"
  echo "$LAB_STATE" >"$RUN_DIR/owner"
}
daemon_alive() { [[ -f $LAB_STATE/pids/$1.pid ]] && kill -0 "$(<"$LAB_STATE/pids/$1.pid")" 2>/dev/null; }
