# shellcheck shell=bash
# The underlay: a bridge on the host and one network namespace per worker, joined by veth pairs. Pod subnets
# are routed between workers over the underlay, so cross-node pod traffic really leaves one node and enters
# another.

net_up() {
  local n i j
  n=$(worker_count)
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  ip addr replace "$HOST_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # The host does not forward (ip_forward stays as it is); this makes sure nothing from the lab ever leaves the
  # machine even where forwarding is on: lab traffic stays on the lab bridge.
  iptables -C FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -m comment --comment netdiag-lab -j DROP 2>/dev/null ||
    iptables -I FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -m comment --comment netdiag-lab -j DROP
  iptables -C FORWARD -o "$BRIDGE" ! -i "$BRIDGE" -m comment --comment netdiag-lab -j DROP 2>/dev/null ||
    iptables -I FORWARD -o "$BRIDGE" ! -i "$BRIDGE" -m comment --comment netdiag-lab -j DROP
  for ((i = 1; i <= n; i++)); do
    local ns host_if
    ns=$(worker_netns "$i")
    host_if="ndlab-w$i"
    [[ -e /run/netns/$ns ]] || ip netns add "$ns"
    if ! ip link show "$host_if" >/dev/null 2>&1; then
      ip link add "$host_if" type veth peer name eth0 netns "$ns"
    fi
    ip link set "$host_if" master "$BRIDGE" up
    in_node "$i" ip link set lo up
    in_node "$i" ip addr replace "$(worker_ip "$i")/24" dev eth0
    in_node "$i" ip link set eth0 up
    in_node "$i" ip route replace default via "$HOST_IP"
    # nodelocaldns listens on a link-local address of its own on every node. kubespray puts it on a dummy
    # interface; this kernel has no dummy driver, and on lo it behaves the same for pods and the node.
    in_node "$i" ip addr replace "$NODELOCALDNS_IP/32" dev lo
    in_node "$i" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 \
      net.ipv4.conf.all.route_localnet=1 2>/dev/null || in_node "$i" sysctl -qw net.ipv4.ip_forward=1
    for ((j = 1; j <= n; j++)); do
      ((i == j)) && continue
      in_node "$i" ip route replace "$(worker_pod_cidr "$j")" via "$(worker_ip "$j")"
    done
    ip route replace "$(worker_pod_cidr "$i")" via "$(worker_ip "$i")"
  done
}

# Removes every network object of the lab, whichever checkout created it.
net_down() {
  local ns link
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    case $ns in ndlab-* | cni-*) ip netns delete "$ns" 2>/dev/null || true ;; esac
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    case $link in ndlab-w*) ip link delete "$link" 2>/dev/null || true ;; esac
  done
  ip link delete "$BRIDGE" 2>/dev/null || true
  while iptables -S FORWARD 2>/dev/null | grep -q 'netdiag-lab'; do
    iptables -S FORWARD | grep 'netdiag-lab' | head -1 | sed 's/^-A/-D/' | xargs iptables 2>/dev/null || break
  done
  local route
  while read -r route; do
    [[ -n $route ]] && ip route delete $route 2>/dev/null
  done < <(ip route show | awk -v p="$UNDERLAY_PREFIX." '$2=="via" && index($3,p)==1 {print $1}')
  true
}
