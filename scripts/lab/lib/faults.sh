# shellcheck shell=bash
# Reversible faults: on a node's uplink (eth0 in its namespace), on DNS (nodelocaldns, CoreDNS, the world's
# resolver), on the service path (kube-proxy), on egress and on the pod network between two nodes. Every
# iptables rule carries the comment netdiag-lab-fault and every fault is recorded in $LAB_STATE/faults, so
# `fault heal` and `status` know them. Each one touches only what its name says (docs/lab.md, "Faults").

record_fault() { echo "$*" >>"$LAB_STATE/faults"; }

fault_loss() {
  local i pct p
  i=$(worker_index "${1:?usage: fault loss NODE PCT}")
  pct=${2:?usage: fault loss NODE PCT}
  [[ $pct =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk "BEGIN{exit !($pct > 0 && $pct <= 100)}" || die "loss must be a percentage in (0,100], got '$pct'"
  p=$(awk "BEGIN{printf \"%.4f\", $pct/100}")
  in_node "$i" iptables -t mangle -I PREROUTING -i eth0 -m statistic --mode random --probability "$p" \
    -m comment --comment "$FAULT_COMMENT" -j DROP
  in_node "$i" iptables -t mangle -I POSTROUTING -o eth0 -m statistic --mode random --probability "$p" \
    -m comment --comment "$FAULT_COMMENT" -j DROP
  record_fault "loss $(worker_fqdn "$i") $pct%"
}

fault_rate() {
  local i mbit
  i=$(worker_index "${1:?usage: fault rate NODE MBIT}")
  mbit=${2:?usage: fault rate NODE MBIT}
  [[ $mbit =~ ^[0-9]+$ ]] && ((mbit > 0)) || die "rate must be a whole number of Mbit/s, got '$mbit'"
  # Both directions: egress of the node's eth0 and egress of its host-side peer (what the node receives).
  in_node "$i" tc qdisc replace dev eth0 root tbf rate "${mbit}mbit" burst 64kb latency 100ms
  tc qdisc replace dev "ndlab-w$i" root tbf rate "${mbit}mbit" burst 64kb latency 100ms
  record_fault "rate $(worker_fqdn "$i") ${mbit}Mbit/s"
}

fault_mtu() {
  local i bytes
  i=$(worker_index "${1:?usage: fault mtu NODE BYTES}")
  bytes=${2:?usage: fault mtu NODE BYTES}
  [[ $bytes =~ ^[0-9]+$ ]] && ((bytes >= 576 && bytes <= 9000)) || die "mtu must be 576..9000, got '$bytes'"
  # Only the node side changes: a mismatch with the rest of the underlay, as a misconfigured NIC would be.
  in_node "$i" ip link set eth0 mtu "$bytes"
  record_fault "mtu $(worker_fqdn "$i") $bytes"
}

fault_block() {
  local i spec proto port
  i=$(worker_index "${1:?usage: fault block NODE tcp|udp/PORT}")
  spec=${2:?usage: fault block NODE tcp|udp/PORT}
  [[ $spec =~ ^(tcp|udp)/([0-9]+)$ ]] || die "block takes tcp/PORT or udp/PORT, got '$spec'"
  proto=${BASH_REMATCH[1]}
  port=${BASH_REMATCH[2]}
  # raw PREROUTING sees the packet before DNAT: what arrives at the node for that port is dropped, whether it
  # is for the node itself or a pod on it.
  in_node "$i" iptables -t raw -I PREROUTING -i eth0 -p "$proto" --dport "$port" \
    -m comment --comment "$FAULT_COMMENT" -j DROP
  record_fault "block $(worker_fqdn "$i") $proto/$port"
}

fault_apiserver_restart() {
  stop_daemon kube-apiserver
  start_apiserver
  record_fault "apiserver-restart"
  log "kube-apiserver restarted"
}

# The Service heal creates to see the service path work end to end again (CoreDNS pods are its backends).
HEAL_PROBE_SERVICE=netdiag-lab-heal-probe

heal_probe_programmed() {
  local ip i
  ip=$(kc -n kube-system get service "$HEAL_PROBE_SERVICE" -o jsonpath='{.spec.clusterIP}' 2>/dev/null) || return 1
  [[ -n $ip && -n $(kc -n kube-system get endpointslices -l "kubernetes.io/service-name=$HEAL_PROBE_SERVICE" \
    -o jsonpath='{.items[*].endpoints[*].addresses[*]}' 2>/dev/null) ]] || return 1
  for ((i = 1; i <= $(worker_count); i++)); do
    in_node "$i" iptables -t nat -S KUBE-SERVICES | grep -q -- "-d $ip/32" || return 1
  done
}

# After an API server restart its clients watch again with client-go's backoff: for tens of seconds a new Service
# may get no endpoints, or no rules on a node. Heal returns once a new Service is published and programmed on every
# node, so what runs next meets a cluster that has caught up.
heal_apiserver_restart() {
  kc -n kube-system apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $HEAL_PROBE_SERVICE
  labels: {app.kubernetes.io/part-of: netdiag-lab}
spec:
  selector: {k8s-app: kube-dns}
  ports: [{name: dns-tcp, port: 53, protocol: TCP}]
YAML
  wait_for "the control plane and kube-proxy to publish a new Service again" 180 heal_probe_programmed
  kc -n kube-system delete service "$HEAL_PROBE_SERVICE" --wait=false >/dev/null
}

fault_controller_manager_down() {
  # Every controller stops, the EndpointSlice controller among them: a new Service gets no endpoints and a new
  # ReplicaSet no pods. What runs keeps running, and kube-proxy keeps the rules it has.
  stop_daemon kube-controller-manager
  record_fault "controller-manager-down"
}

# Inserts a DROP rule carrying the fault comment in a node's namespace.
node_drop() {
  local i=$1 table=$2 chain=$3
  shift 3
  in_node "$i" iptables -t "$table" -I "$chain" "$@" -m comment --comment "$FAULT_COMMENT" -j DROP
}

fault_nodelocaldns_down() {
  local i proto
  i=$(worker_index "${1:?usage: fault nodelocaldns-down NODE}")
  # The cache stops answering on that node (queries are dropped, as from a hung cache); its health port and
  # every other node's cache keep working, and 10.233.0.10 stays reachable from the node.
  for proto in udp tcp; do
    node_drop "$i" mangle INPUT -d "$NODELOCALDNS_IP" -p "$proto" --dport 53
  done
  record_fault "nodelocaldns-down $(worker_fqdn "$i")"
}

coredns_pods_gone() { [[ -z $(kc -n kube-system get pods -l k8s-app=kube-dns -o name) ]]; }

fault_coredns_down() {
  # Every replica gone: kube-dns has no endpoints, so 10.233.0.10 answers nothing (kube-proxy rejects);
  # nodelocaldns still answers what it has cached.
  kc -n kube-system scale deploy/coredns --replicas=0 >/dev/null
  wait_for "the CoreDNS pods to stop" 60 coredns_pods_gone
  record_fault "coredns-down"
}

coredns_pod_ips() { kc -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}'; }

# The network namespace (a /run/netns/cni-* path) that holds a pod's address.
pod_netns() {
  local ip=$1 ns
  for ns in /run/netns/cni-*; do
    nsenter --net="$ns" -- ip -o -4 addr show | grep -q " $ip/" && { echo "$ns"; return 0; }
  done
  return 1
}

DNS_DELAY_PORT=5353

fault_coredns_slow() {
  local ms=${1:?usage: fault coredns-slow MS} ip ns proto pidfile ips
  [[ $ms =~ ^[0-9]+$ ]] && ((ms >= 1 && ms <= 10000)) || die "coredns-slow takes a delay of 1..10000 ms, got '$ms'"
  ips=$(coredns_pod_ips)
  [[ -n $ips ]] || die "there is no CoreDNS pod to slow down" "scripts/lab/lab fault heal"
  mkdir -p "$RUN_DIR/faults"
  record_fault "coredns-slow ${ms}ms"
  # In each CoreDNS pod, port 53 from outside is redirected to a relay that answers MS later (this kernel has
  # no netem). Only DNS is delayed: the pods' health and readiness ports answer as before.
  for ip in $ips; do
    ns=$(pod_netns "$ip") || die "no network namespace holds CoreDNS's address $ip"
    pidfile=$RUN_DIR/faults/coredns-slow-$ip.pid
    rm -f "$pidfile"
    echo "$ns" >"$RUN_DIR/faults/coredns-slow-$ip.netns"
    spawn_detached "$LAB_STATE/logs/coredns-slow.log" \
      nsenter --net="$ns" -- "$WORLD_PYTHON" "$LAB_DIR/lib/dns_delay.py" "$pidfile" "$DNS_DELAY_PORT" "$ip" "$ms"
    wait_for "the delaying relay in CoreDNS pod $ip" 10 test -s "$pidfile"
    for proto in udp tcp; do
      nsenter --net="$ns" -- iptables -t nat -I PREROUTING -p "$proto" --dport 53 \
        -m comment --comment "$FAULT_COMMENT" -j REDIRECT --to-ports "$DNS_DELAY_PORT"
    done
    forget_dns_flows "$ns"
  done
}

fault_upstream_down() {
  local proto
  # The world's resolver stops answering (queries dropped); the world's other services carry on.
  for proto in udp tcp; do
    in_world iptables -t mangle -I INPUT -d "$WORLD_RESOLVER" -p "$proto" --dport 53 \
      -m comment --comment "$FAULT_COMMENT" -j DROP
  done
  record_fault "upstream-down $WORLD_RESOLVER"
}

fault_egress_block() {
  local i chain proto
  i=$(worker_index "${1:?usage: fault egress-block NODE}")
  # Nothing from the node or its pods reaches the world, except DNS: CoreDNS replicas on the node keep reaching
  # their upstream, so the fault is egress alone and not upstream DNS.
  for chain in FORWARD OUTPUT; do
    for proto in tcp udp; do node_drop "$i" mangle "$chain" -o eth0 -d "$WORLD_CIDR" -p "$proto" ! --dport 53; done
    node_drop "$i" mangle "$chain" -o eth0 -d "$WORLD_CIDR" -p icmp
  done
  record_fault "egress-block $(worker_fqdn "$i")"
}

fault_kube_proxy_broken() {
  local i
  i=$(worker_index "${1:?usage: fault kube-proxy-broken NODE}")
  # kube-proxy stopped and its Service rules gone on that node only: ClusterIPs and NodePorts do not answer
  # there, pod IPs still do. Established flows are forgotten too, so nothing keeps working by conntrack alone.
  stop_daemon "kube-proxy-$(worker_name "$i")"
  in_node "$i" iptables -t nat -F KUBE-SERVICES
  in_node "$i" conntrack -D --orig-dst "$SERVICE_CIDR" >/dev/null 2>&1 || true
  record_fault "kube-proxy-broken $(worker_fqdn "$i")"
}

fault_podnet_split() {
  local a b x y
  a=$(worker_index "${1:?usage: fault podnet-split NODEA NODEB}")
  b=$(worker_index "${2:?usage: fault podnet-split NODEA NODEB}")
  ((a != b)) || die "podnet-split needs two different nodes, got $1 and $2"
  # Pod-to-pod traffic between the two nodes is dropped where it crosses the underlay, both ways, on both
  # nodes; their node addresses, and pods on every other node, are untouched.
  for x in "$a" "$b"; do
    y=$((x == a ? b : a))
    node_drop "$x" mangle FORWARD -s "$(worker_pod_cidr "$x")" -d "$(worker_pod_cidr "$y")"
    node_drop "$x" mangle FORWARD -s "$(worker_pod_cidr "$y")" -d "$(worker_pod_cidr "$x")"
  done
  record_fault "podnet-split $(worker_fqdn "$a") $(worker_fqdn "$b")"
}

delete_fault_rules() {
  local netns=$1 table rule
  for table in raw mangle nat filter; do
    while read -r rule; do
      # shellcheck disable=SC2086 # a rule is iptables words without quoting (the comment has no spaces)
      [[ -n $rule ]] && nsenter --net="$netns" -- iptables -t "$table" ${rule/-A /-D }
    done < <(nsenter --net="$netns" -- iptables -t "$table" -S 2>/dev/null | grep -- "$FAULT_COMMENT")
  done
}

# Connections to port 53 opened before a redirect was added or removed would keep their old way (nodelocaldns
# keeps its TCP and UDP sockets to CoreDNS): forget them so every next packet takes the new one.
forget_dns_flows() {
  local ns=$1 proto
  for proto in tcp udp; do nsenter --net="$ns" -- conntrack -D -p "$proto" --orig-port-dst 53 >/dev/null 2>&1 || true; done
}

heal_coredns_slow() {
  local f ns
  for f in "$RUN_DIR"/faults/coredns-slow-*.pid; do
    [[ -f $f ]] || continue
    kill "$(<"$f")" 2>/dev/null || true
    rm -f "$f"
  done
  for f in "$RUN_DIR"/faults/coredns-slow-*.netns; do
    [[ -f $f ]] || continue
    ns=$(<"$f")
    if [[ -e $ns ]]; then
      delete_fault_rules "$ns"
      forget_dns_flows "$ns"
    fi
    rm -f "$f"
  done
}

dns_service_programmed() { in_node "$1" iptables -t nat -S KUBE-SERVICES | grep -q 'kube-system/kube-dns:dns cluster IP'; }

kube_proxy_synced() { in_node "$1" iptables -t nat -S KUBE-SERVICES | grep -q -- '-j KUBE-SVC-'; }

fault_heal() {
  local i
  heal_coredns_slow
  for ((i = 1; i <= $(worker_count); i++)); do
    [[ -e /run/netns/$(worker_netns "$i") ]] || continue
    delete_fault_rules "/run/netns/$(worker_netns "$i")"
    in_node "$i" tc qdisc del dev eth0 root 2>/dev/null || true
    tc qdisc del dev "ndlab-w$i" root 2>/dev/null || true
    in_node "$i" ip link set eth0 mtu 1500
    if ! daemon_alive "kube-proxy-$(worker_name "$i")"; then
      start_kube_proxy "$i"
      wait_for "kube-proxy to restore the Service rules on $(worker_name "$i")" 60 kube_proxy_synced "$i"
    fi
  done
  [[ -e /run/netns/$WORLD_NETNS ]] && delete_fault_rules "/run/netns/$WORLD_NETNS"
  if ! daemon_alive kube-controller-manager; then
    start_controller_manager
    wait_for "kube-controller-manager" 60 controller_manager_healthy
  fi
  if grep -qx apiserver-restart "$LAB_STATE/faults" 2>/dev/null; then heal_apiserver_restart; fi
  if [[ $(kc -n kube-system get deploy coredns -o jsonpath='{.spec.replicas}') == 0 ]]; then
    kc -n kube-system scale deploy/coredns --replicas=2 >/dev/null
    wait_for "CoreDNS to be back" 120 kc -n kube-system rollout status deploy/coredns --timeout=5s
    for ((i = 1; i <= $(worker_count); i++)); do
      wait_for "kube-proxy on $(worker_name "$i") to send 10.233.0.10 to CoreDNS again" 60 dns_service_programmed "$i"
    done
  fi
  rm -f "$LAB_STATE/faults"
  log "all faults healed"
}

FAULT_USAGE="fault loss NODE PCT | rate NODE MBIT | mtu NODE BYTES | block NODE tcp|udp/PORT | apiserver-restart |
       controller-manager-down | nodelocaldns-down NODE | coredns-down | coredns-slow MS | upstream-down |
       egress-block NODE | kube-proxy-broken NODE | podnet-split NODEA NODEB | heal"

fault_main() {
  local kind=${1:-}
  shift || true
  case $kind in
    loss) fault_loss "$@" ;;
    rate) fault_rate "$@" ;;
    mtu) fault_mtu "$@" ;;
    block) fault_block "$@" ;;
    apiserver-restart) fault_apiserver_restart ;;
    controller-manager-down) fault_controller_manager_down ;;
    nodelocaldns-down) fault_nodelocaldns_down "$@" ;;
    coredns-down) fault_coredns_down ;;
    coredns-slow) fault_coredns_slow "$@" ;;
    upstream-down) fault_upstream_down ;;
    egress-block) fault_egress_block "$@" ;;
    kube-proxy-broken) fault_kube_proxy_broken "$@" ;;
    podnet-split) fault_podnet_split "$@" ;;
    heal) fault_heal ;;
    *) die "unknown fault '$kind'" "use: $FAULT_USAGE" ;;
  esac
}
