# shellcheck shell=bash
# Reversible faults on a node's uplink (eth0 in its namespace). Every iptables rule carries the comment
# netdiag-lab-fault and every fault is recorded in $LAB_STATE/faults, so `fault heal` and `status` know them.

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
  log "kube-apiserver restarted"
}

delete_fault_rules() {
  local i=$1 table rule
  for table in raw mangle; do
    while read -r rule; do
      # shellcheck disable=SC2086 # a rule is iptables words without quoting (the comment has no spaces)
      [[ -n $rule ]] && in_node "$i" iptables -t "$table" ${rule/-A /-D }
    done < <(in_node "$i" iptables -t "$table" -S 2>/dev/null | grep -- "$FAULT_COMMENT")
  done
}

fault_heal() {
  local i
  for ((i = 1; i <= $(worker_count); i++)); do
    [[ -e /run/netns/$(worker_netns "$i") ]] || continue
    delete_fault_rules "$i"
    in_node "$i" tc qdisc del dev eth0 root 2>/dev/null || true
    tc qdisc del dev "ndlab-w$i" root 2>/dev/null || true
    in_node "$i" ip link set eth0 mtu 1500
  done
  rm -f "$LAB_STATE/faults"
  log "all faults healed"
}

fault_main() {
  local kind=${1:-}
  shift || true
  case $kind in
    loss) fault_loss "$@" ;;
    rate) fault_rate "$@" ;;
    mtu) fault_mtu "$@" ;;
    block) fault_block "$@" ;;
    apiserver-restart) fault_apiserver_restart ;;
    heal) fault_heal ;;
    *) die "unknown fault '$kind'" "use: fault loss NODE PCT | rate NODE MBIT | mtu NODE BYTES | block NODE tcp|udp/PORT | apiserver-restart | heal" ;;
  esac
}
