# scripts/bench/lib/peers-tcp.sh — sourced by scripts/bench/link after peers.sh: the rows of `--transport tcp`,
# for sites whose firewalls drop UDP. tinc 1.0 with `TCPOnly = yes` (every packet over its TCP meta connection),
# direct (node1 → node2) and relayed through a third node (node1 → node3 → node2, neither end connects to the
# other), in the shape of peers.sh; the third node's host namespace vs-bl-h3 (198.18.0.3) sits on the same bridge.
# The vswitch rows are scripts/bench/link's own (scripts/lab --block-udp), next to these.

BL_RELAY_HOST=vs-bl-h3
BL_RELAY_IP=198.18.0.3
BL_HOSTS+=("$BL_RELAY_HOST") # so bl_topology_up makes it (empty) and bl_topology_down removes it

# The relay's underlay: a third veth into the bridge (bl_topology_up plugs in h1 and h2 only).
bl_relay_up() {
  ip netns exec "$BL_RELAY_HOST" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$BL_WAN" link add h3 type veth peer name wan0 netns "$BL_RELAY_HOST"
  ip -n "$BL_WAN" link set h3 master br0 up
  ip -n "$BL_RELAY_HOST" addr add "$BL_RELAY_IP/16" dev wan0
  ip -n "$BL_RELAY_HOST" link set wan0 up
}

# bl_tinc_tcp_node DIR NAME IP [CONNECTTO] — one TCPOnly tinc node's config and keys.
bl_tinc_tcp_node() {
  local dir=$1 name=$2 ip=$3 to=${4:-}
  mkdir -p "$dir/hosts"
  {
    echo "Name = $name"
    echo "Mode = switch"
    echo "DeviceType = tap"
    echo "AddressFamily = ipv4"
    echo "BindToAddress = $ip"
    echo "Port = $BL_TINC_PORT"
    echo "TCPOnly = yes"
    [ -z "$to" ] || echo "ConnectTo = $to"
  } >"$dir/tinc.conf"
  printf 'Address = %s\nPort = %s\nTCPOnly = yes\n' "$ip" "$BL_TINC_PORT" >"$dir/hosts/$name"
  tincd -c "$dir" -K2048 </dev/null >"$dir/keygen.log" 2>&1 || { cat "$dir/keygen.log" >&2; bl_die "tincd -K failed"; }
}

# bl_tinc_tcp_up RELAYED — nodes 1 and 2 (and 3 when RELAYED=1), every host file everywhere, daemons up, TAPs moved.
bl_tinc_tcp_up() {
  local relayed=$1 i j dir base=$BL_WORK/tinc-tcp
  local names=(node1 node2) ips=("${BL_UNDERLAY_IP[0]}" "${BL_UNDERLAY_IP[1]}") hosts=("${BL_HOSTS[0]}" "${BL_HOSTS[1]}")
  if ((relayed)); then
    bl_relay_up
    bl_tinc_tcp_node "$base/node1" node1 "${ips[0]}" node3
    bl_tinc_tcp_node "$base/node2" node2 "${ips[1]}" node3
    bl_tinc_tcp_node "$base/node3" node3 "$BL_RELAY_IP"
    echo "Interface = vsbltinc3" >>"$base/node3/tinc.conf"
    names+=(node3) ips+=("$BL_RELAY_IP") hosts+=("$BL_RELAY_HOST")
  else
    bl_tinc_tcp_node "$base/node1" node1 "${ips[0]}" node2
    bl_tinc_tcp_node "$base/node2" node2 "${ips[1]}"
  fi
  echo "Interface = ${BL_TINC_IF[0]}" >>"$base/node1/tinc.conf"
  echo "Interface = ${BL_TINC_IF[1]}" >>"$base/node2/tinc.conf"
  for i in "${!names[@]}"; do
    for j in "${!names[@]}"; do
      ((i == j)) || cp "$base/${names[$j]}/hosts/${names[$j]}" "$base/${names[$i]}/hosts/"
    done
  done
  for i in "${!names[@]}"; do
    dir=$base/${names[$i]}
    bl_spawn "${hosts[$i]}" "$dir/log" tincd -c "$dir" -D --pidfile="$dir/tincd.pid" >/dev/null
  done
  for i in 0 1; do
    bl_wait_link "${BL_HOSTS[$i]}" "${BL_TINC_IF[$i]}"
    bl_move_to_vm "$i" "${BL_TINC_IF[$i]}" "${BL_VM_MAC[$i]}"
  done
  # The relay's own TAP stays up in its host namespace with no address: it only forwards.
  if ((relayed)); then
    bl_wait_link "$BL_RELAY_HOST" vsbltinc3
    ip -n "$BL_RELAY_HOST" link set vsbltinc3 up
  fi
}

peer_tinc_tcp_up() { bl_tinc_tcp_up 0; }
peer_tinc_tcp_relayed_up() { bl_tinc_tcp_up 1; }
# TCPOnly needs no path-MTU discovery: reachable is ready.
peer_tinc_tcp_ready() {
  bl_wait_reachable "${BL_VMS[0]}" "${BL_VM_IP[1]}" || true
  BL_DETAIL="TCPOnly = yes; tap MTU 1500"
}
peer_tinc_tcp_relayed_ready() {
  peer_tinc_tcp_ready
  BL_DETAIL="TCPOnly = yes, relayed by a third node; tap MTU 1500"
}
peer_tinc_tcp_down() { bl_kill_all; }
peer_tinc_tcp_relayed_down() { bl_kill_all; }
