# shellcheck shell=bash
# The outside world: a network namespace beside the lab (not a worker) with addresses of its own, reached from
# pods through their node (which masquerades pod traffic to the node's address, as cluster egress does) and the
# host (which forwards only between the lab's bridge and the world). It serves an authoritative zone for
# netdiag.test (CoreDNS's upstream), HTTP on :80, a TCP and UDP echo on :8080, nothing on :81 (refused) and a
# DROP rule on :82 (filtered). It has no route anywhere but the lab, so nothing leaves the machine.
# world_up is idempotent: on a running lab it adds whatever is missing without restarting anything.

world_dir() { echo "$RUN_DIR/world"; }

world_zone() {
  local i
  cat <<ZONE
\$ORIGIN $WORLD_ZONE.
\$TTL 30
@       IN SOA ns.$WORLD_ZONE. hostmaster.$WORLD_ZONE. 1 3600 600 86400 30
@       IN NS  ns.$WORLD_ZONE.
ns      IN A   $WORLD_RESOLVER
www     IN A   $WORLD_WWW
api     IN A   $WORLD_API
; a CNAME chain: alias -> alias2 -> www
alias   IN CNAME alias2
alias2  IN CNAME www
; any label under wild answers, so a test can ask a name no cache has seen
*.wild  IN A   $WORLD_WWW
ZONE
  # 100 addresses (with the zone's NS and glue) make a 3.3 kB answer: larger than UDP's 512 bytes and than
  # the usual EDNS 1232, so it is truncated over UDP and needs TCP.
  for ((i = 100; i < 200; i++)); do echo "big     IN A   $WORLD_PREFIX.$i"; done
}

world_corefile() {
  cat <<COREFILE
$WORLD_ZONE:53 {
    bind $WORLD_RESOLVER
    file $(world_dir)/$WORLD_ZONE.zone
    errors
}
.:53 {
    bind $WORLD_RESOLVER
    # The rest of the internet does not exist here: answer at once instead of timing out.
    template ANY ANY {
        rcode NXDOMAIN
    }
}
COREFILE
}

# Writes a file only when its content differs; returns 0 when it changed.
write_if_changed() {
  local path=$1 content
  content=$(cat)
  [[ -f $path && $(<"$path") == "$content" ]] && return 1
  printf '%s\n' "$content" >"$path"
}

# (Re)starts a world daemon when its configuration changed or it is not running.
world_daemon() {
  local name=$1 changed=$2
  shift 2
  ((changed)) && stop_daemon "$name"
  daemon_alive "$name" || start_daemon "$name" nsenter --net="/run/netns/$WORLD_NETNS" -- "$@"
}

world_network() {
  local addr
  [[ -e /run/netns/$WORLD_NETNS ]] || ip netns add "$WORLD_NETNS"
  ip link show "$WORLD_LINK" >/dev/null 2>&1 || ip link add "$WORLD_LINK" type veth peer name eth0 netns "$WORLD_NETNS"
  ip addr replace "$WORLD_GATEWAY/24" dev "$WORLD_LINK"
  ip link set "$WORLD_LINK" up
  in_world ip link set lo up
  for addr in "$WORLD_RESOLVER" "$WORLD_WWW" "$WORLD_API"; do in_world ip addr replace "$addr/24" dev eth0; done
  in_world ip link set eth0 up
  # The only route out of the world leads back to the lab's underlay (what the nodes masquerade pods to).
  in_world ip route replace "$UNDERLAY_PREFIX.0/24" via "$WORLD_GATEWAY"
  in_world sysctl -qw net.ipv4.ip_forward=0
  local proto
  for proto in tcp udp; do
    in_world iptables -C INPUT -p "$proto" --dport 82 -m comment --comment netdiag-lab -j DROP 2>/dev/null ||
      in_world iptables -A INPUT -p "$proto" --dport 82 -m comment --comment netdiag-lab -j DROP
  done
  # The host forwards on these two interfaces only (per-interface forwarding; net.ipv4.ip_forward stays as it
  # is) and only between them: the world's rules are rewritten as a block so the ACCEPTs stay above the DROPs.
  sysctl -qw "net.ipv4.conf.$BRIDGE.forwarding=1" "net.ipv4.conf.$WORLD_LINK.forwarding=1"
  local rule
  while read -r rule; do
    # shellcheck disable=SC2086 # iptables words; the comment has no spaces
    [[ -n $rule ]] && iptables ${rule/-A /-D }
  done < <(iptables -S FORWARD | grep -- "$WORLD_LINK" | grep -- '--comment netdiag-lab')
  iptables -I FORWARD -i "$WORLD_LINK" -m comment --comment netdiag-lab -j DROP
  iptables -I FORWARD -o "$WORLD_LINK" -m comment --comment netdiag-lab -j DROP
  iptables -I FORWARD -i "$WORLD_LINK" -o "$BRIDGE" -m comment --comment netdiag-lab -j ACCEPT
  iptables -I FORWARD -i "$BRIDGE" -o "$WORLD_LINK" -m comment --comment netdiag-lab -j ACCEPT
}

# Pod egress to the world leaves the node with the node's address, as a CNI's outgoing NAT does.
world_node_nat() {
  local i
  for ((i = 1; i <= $(worker_count); i++)); do
    in_node "$i" iptables -t nat -C POSTROUTING -s "$POD_CIDR" -d "$WORLD_CIDR" -o eth0 \
      -m comment --comment netdiag-lab -j MASQUERADE 2>/dev/null ||
      in_node "$i" iptables -t nat -A POSTROUTING -s "$POD_CIDR" -d "$WORLD_CIDR" -o eth0 \
        -m comment --comment netdiag-lab -j MASQUERADE
  done
}

world_up() {
  local dir zone_changed=0 corefile_changed=0 server_changed=0
  dir=$(world_dir)
  mkdir -p "$dir/www"
  world_network
  world_node_nat
  world_zone | write_if_changed "$dir/$WORLD_ZONE.zone" && zone_changed=1
  world_corefile | write_if_changed "$dir/Corefile" && corefile_changed=1
  echo "netdiag-lab world: www.$WORLD_ZONE" | write_if_changed "$dir/www/index.html" || true
  # The server runs from a copy in the run directory: a change to it restarts the server, and the server does
  # not depend on the checkout that started it.
  write_if_changed "$dir/world_server.py" <"$LAB_DIR/lib/world_server.py" && server_changed=1
  world_daemon world-dns $((zone_changed || corefile_changed)) \
    "$CACHE/coredns-$COREDNS_VERSION/coredns" -conf "$dir/Corefile"
  world_daemon world-www "$server_changed" "$WORLD_PYTHON" "$dir/world_server.py" "$dir/www" "$WORLD_WWW" "$WORLD_API"
  wait_for "the world's DNS server" 30 in_world sh -c "ss -Hlun 'sport = :53' | grep -q ."
  wait_for "the world's HTTP server" 30 in_world sh -c "ss -Hltn 'sport = :80' | grep -q ."
}

world_status() {
  cat <<TXT
namespace $WORLD_NETNS (host side $WORLD_LINK $WORLD_GATEWAY; nodes masquerade pods to it)
  $WORLD_RESOLVER  ns.$WORLD_ZONE   authoritative DNS for $WORLD_ZONE (CoreDNS forwards . here)
  $WORLD_WWW  www.$WORLD_ZONE  tcp/80 HTTP, tcp+udp/8080 echo, 81 closed (refused), 82 filtered (dropped)
  $WORLD_API  api.$WORLD_ZONE  the same services
  names: www, api, alias (CNAME alias2 -> www), big (100 A records: truncated over UDP, needs TCP), *.wild (-> www)
TXT
}
