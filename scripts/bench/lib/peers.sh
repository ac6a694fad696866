# scripts/bench/lib/peers.sh — sourced by scripts/bench/link: the shared topology, one up/down pair per peer,
# and the one measurement every peer goes through.
#
# The shape (the same for every peer, and the same as scripts/lab gives vswitch):
#
#   vs-bl-v1            vs-bl-h1                 vs-bl-wan (br0)                vs-bl-h2            vs-bl-v2
#   [VM 198.19.1.1] <-dev- [peer daemon] ==UDP== wan0 ─┤bridge├─ wan0 ==UDP== [peer daemon] -dev-> [VM 198.19.2.1]
#                          198.18.0.1/16                                        198.18.0.2/16
#
# Each peer daemon runs in a "host" namespace, where its UDP socket sits on the underlay: a veth into a bridge in
# vs-bl-wan, as scripts/lab's vs-wan. The virtual device the daemon opened (a TAP for tinc, a TUN for
# wireguard-go) is then moved into the "VM" namespace, exactly as scripts/lab moves the vswitch daemon's TAP into
# vs-hHvV as eth0. So a VM's packet crosses: the device, one userspace daemon, encryption, a UDP send over
# veth + bridge + veth, the other daemon, the other device — the same kernel hops for every row.
#
# Rules: namespaces are vs-bl-*, addresses 198.18.0.0/16 (underlay) and 198.19.0.0/16 (VMs) only; every process
# is started through bl_spawn, which records its PID so bl_kill_all stops exactly those (never by name).
# Each peer's _ready function may set BL_DETAIL (a short note on MTUs) for the report.
# Callers set BL_WORK (a fresh temp dir for keys, configs and logs) before calling anything here.

BL_WAN=vs-bl-wan
BL_HOSTS=(vs-bl-h1 vs-bl-h2)
BL_VMS=(vs-bl-v1 vs-bl-v2)
BL_UNDERLAY_IP=(198.18.0.1 198.18.0.2)
BL_VM_IP=(198.19.1.1 198.19.2.1)
BL_VM_MAC=(02:00:c6:13:01:01 02:00:c6:13:02:01)
# PIDs of everything we started; kept outside BL_WORK so a later run can reap what a killed run left behind.
BL_PID_FILE=${BL_PID_FILE:-/run/vs-bench-link.pids}

bl_say() { echo "bench/link: $*" >&2; }
bl_die() { bl_say "$*"; exit 1; }

bl_ns_exists() { ip netns list | awk '{print $1}' | grep -qx -- "$1"; }

# --- processes ----------------------------------------------------------------------------------------------

# bl_spawn NS LOG CMD... — run CMD in namespace NS in the background; prints its PID and records it.
# `ip netns exec` execs CMD after setns, so $! is CMD's own PID.
bl_spawn() {
  local ns=$1 log=$2
  shift 2
  ip netns exec "$ns" "$@" >>"$log" 2>&1 &
  local pid=$!
  echo "$pid $1" >>"$BL_PID_FILE"
  echo "$pid"
}

# bl_stop_pid PID [NAME] — TERM, wait up to 3 s, then KILL; only if /proc/PID is still the program we started.
bl_stop_pid() {
  local pid=$1 name=${2:-} _
  [ -d "/proc/$pid" ] || return 0
  if [ -n "$name" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(basename "$name")"; then
    return 0 # the PID was reused by something that is not ours
  fi
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 60); do [ -d "/proc/$pid" ] || return 0; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
}

bl_kill_all() {
  [ -f "$BL_PID_FILE" ] || return 0
  local pid name
  while read -r pid name; do bl_stop_pid "$pid" "$name"; done <"$BL_PID_FILE"
  rm -f "$BL_PID_FILE"
}

# --- topology -----------------------------------------------------------------------------------------------

bl_topology_down() {
  local ns
  for ns in "${BL_VMS[@]}" "${BL_HOSTS[@]}" "$BL_WAN"; do
    if bl_ns_exists "$ns"; then ip netns del "$ns" 2>/dev/null || true; fi
  done
}

# Two host namespaces on a bridged underlay (like scripts/lab's WAN), and two empty VM namespaces (each peer
# supplies their device). IPv6 is off in the host namespaces, as in the lab, so new devices stay quiet.
bl_topology_up() {
  local ns i
  for ns in "$BL_WAN" "${BL_HOSTS[@]}" "${BL_VMS[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  ip -n "$BL_WAN" link add br0 type bridge
  ip -n "$BL_WAN" link set br0 up
  for i in 0 1; do
    ns=${BL_HOSTS[$i]}
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$BL_WAN" link add "h$((i + 1))" type veth peer name wan0 netns "$ns"
    ip -n "$BL_WAN" link set "h$((i + 1))" master br0 up
    ip -n "$ns" addr add "${BL_UNDERLAY_IP[$i]}/16" dev wan0
    ip -n "$ns" link set wan0 up
  done
}

# bl_wait_link NS DEV — until the daemon has created its device (5 s).
bl_wait_link() {
  local _
  for _ in $(seq 100); do ip -n "$1" link show "$2" >/dev/null 2>&1 && return 0; sleep 0.05; done
  bl_die "device $2 did not appear in $1"
}

# bl_move_to_vm I DEV [MAC] — hand the daemon's device to VM I (0 or 1), give it the VM's address (and MAC, for
# a TAP: set before the link is up, so the switch never learns the device's first random MAC), bring it up.
bl_move_to_vm() {
  local i=$1 dev=$2 mac=${3:-} vm=${BL_VMS[$1]}
  ip -n "${BL_HOSTS[$i]}" link set "$dev" netns "$vm"
  if [ -n "$mac" ]; then ip -n "$vm" link set "$dev" address "$mac"; fi
  ip -n "$vm" addr add "${BL_VM_IP[$i]}/16" dev "$dev"
  ip -n "$vm" link set "$dev" up
}

# --- wireguard-go (userspace WireGuard, Debian package wireguard-go; configured with wg from wireguard-tools) --
# Device names are global in one respect: wireguard-go's control socket is /var/run/wireguard/<name>.sock, a path
# shared by all namespaces, so the names below must not clash with anyone else's wireguard-go on this machine.

BL_WG_IF=(vsblwg1 vsblwg2)
BL_WG_PORT=51820

# The Debian build from PATH is `wireguard-go`; a second build (the current upstream one, with TUN offloads and
# UDP GSO/GRO) is `wireguard-go-modern`, its binary in BL_WG_MODERN (scripts/bench/link --wireguard-go-modern).
peer_wireguard_go_up() { bl_wireguard_go_up wireguard-go wireguard-go; }
peer_wireguard_go_modern_up() { bl_wireguard_go_up "$BL_WG_MODERN" wireguard-go-modern; }
peer_wireguard_go_modern_ready() { peer_wireguard_go_ready; }
peer_wireguard_go_modern_down() { bl_kill_all; }

# bl_wireguard_go_up PROGRAM NAME — the two wireguard-go daemons, keys and logs under BL_WORK/NAME.
bl_wireguard_go_up() {
  local program=$1 i j dir=$BL_WORK/$2
  mkdir -p "$dir"
  for i in 0 1; do
    wg genkey >"$dir/key$i"
    wg pubkey <"$dir/key$i" >"$dir/pub$i"
  done
  for i in 0 1; do
    j=$((1 - i))
    [ ! -S "/var/run/wireguard/${BL_WG_IF[$i]}.sock" ] || bl_die "a wireguard-go named ${BL_WG_IF[$i]} already runs"
    # Foreground, so the PID we record is the daemon itself; the tun device is created in the host namespace.
    WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error bl_spawn "${BL_HOSTS[$i]}" "$dir/log$i" "$program" "${BL_WG_IF[$i]}" >/dev/null
    bl_wait_link "${BL_HOSTS[$i]}" "${BL_WG_IF[$i]}"
    local _
    for _ in $(seq 100); do [ -S "/var/run/wireguard/${BL_WG_IF[$i]}.sock" ] && break; sleep 0.05; done
    ip netns exec "${BL_HOSTS[$i]}" wg set "${BL_WG_IF[$i]}" private-key "$dir/key$i" listen-port "$BL_WG_PORT" \
      peer "$(cat "$dir/pub$j")" endpoint "${BL_UNDERLAY_IP[$j]}:$BL_WG_PORT" allowed-ips "${BL_VM_IP[$j]}/32"
    bl_move_to_vm "$i" "${BL_WG_IF[$i]}"
  done
}

# WireGuard needs no warm-up beyond its handshake, which bl_measure's first ping triggers.
peer_wireguard_go_ready() { BL_DETAIL="tun MTU $(ip netns exec "${BL_VMS[0]}" cat "/sys/class/net/${BL_WG_IF[0]}/mtu")"; }

peer_wireguard_go_down() { bl_kill_all; }

# --- tinc 1.0 in switch mode (Debian package tinc): a userspace L2 switch over UDP, like vswitch ---------------
# Defaults are kept (tinc 1.0: RSA-authenticated meta connection, Blowfish-CBC + HMAC-SHA1 on packets,
# PMTU discovery and TCP MSS clamping on), so the row means "tinc as shipped".

BL_TINC_IF=(vsbltinc1 vsbltinc2)
BL_TINC_PID=()
BL_TINC_PORT=655

peer_tinc_up() {
  local i j dir
  for i in 0 1; do
    dir=$BL_WORK/tinc/node$((i + 1))
    mkdir -p "$dir/hosts"
    {
      echo "Name = node$((i + 1))"
      echo "Mode = switch"
      echo "DeviceType = tap"
      echo "Interface = ${BL_TINC_IF[$i]}"
      echo "AddressFamily = ipv4"
      echo "BindToAddress = ${BL_UNDERLAY_IP[$i]}"
      echo "Port = $BL_TINC_PORT"
      ((i == 0)) && echo "ConnectTo = node2"
    } >"$dir/tinc.conf"
    printf 'Address = %s\nPort = %s\n' "${BL_UNDERLAY_IP[$i]}" "$BL_TINC_PORT" >"$dir/hosts/node$((i + 1))"
    # -K appends the public key to hosts/<Name>; not a tty, so it takes the default file names without asking.
    tincd -c "$dir" -K2048 </dev/null >"$dir/keygen.log" 2>&1 || { cat "$dir/keygen.log" >&2; bl_die "tincd -K failed"; }
  done
  for i in 0 1; do
    j=$((1 - i))
    cp "$BL_WORK/tinc/node$((j + 1))/hosts/node$((j + 1))" "$BL_WORK/tinc/node$((i + 1))/hosts/"
  done
  for i in 0 1; do
    dir=$BL_WORK/tinc/node$((i + 1))
    # -D: stay in the foreground (our PID is tincd's); --pidfile keeps it off the system's /run/tinc.*.pid.
    BL_TINC_PID[$i]=$(bl_spawn "${BL_HOSTS[$i]}" "$dir/log" tincd -c "$dir" -D --pidfile="$dir/tincd.pid")
    bl_wait_link "${BL_HOSTS[$i]}" "${BL_TINC_IF[$i]}"
    bl_move_to_vm "$i" "${BL_TINC_IF[$i]}" "${BL_VM_MAC[$i]}"
  done
}

# tinc 1.0 sends every packet larger than the path MTU it has confirmed so far over its TCP meta connection, and
# it confirms the MTU by UDP probes, one round a second, that start with the first packet: for the first ~6 s
# a bulk transfer runs TCP-over-TCP (and its SYN is MSS-clamped to a guess). Measure only once each side has
# fixed the MTU to the other (minimum = maximum in its node list, which SIGUSR2 writes to the log): 40 s at most.
peer_tinc_ready() {
  bl_wait_reachable "${BL_VMS[0]}" "${BL_VM_IP[1]}" || return 0 # bl_measure will report that nothing passed
  local i other _ line
  for _ in $(seq 40); do
    local fixed=0
    for i in 0 1; do
      other=node$((2 - i))
      kill -USR2 "${BL_TINC_PID[$i]}" 2>/dev/null || return 0
    done
    sleep 0.2
    for i in 0 1; do
      other=node$((2 - i))
      line=$(grep -E "^ $other at .* pmtu " "$BL_WORK/tinc/node$((i + 1))/log" | tail -1)
      [[ $line =~ pmtu\ ([0-9]+)\ \(min\ ([0-9]+)\ max\ ([0-9]+)\) ]] || continue
      if [ "${BASH_REMATCH[2]}" = "${BASH_REMATCH[3]}" ]; then
        fixed=$((fixed + 1))
        BL_DETAIL="tap MTU 1500; tinc path MTU ${BASH_REMATCH[1]} (frames above it: IPv4 fragments or ICMP)"
      fi
    done
    if ((fixed == 2)); then return 0; fi
    ip netns exec "${BL_VMS[0]}" ping -q -c 3 -i 0.2 "${BL_VM_IP[1]}" >/dev/null 2>&1 || true # keep probing
  done
  bl_say "tinc: the path MTU was not fixed after 40 s; measuring anyway"
}

peer_tinc_down() { bl_kill_all; }

# --- measurement (the same for every peer) ---------------------------------------------------------------------

bl_median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# bl_wait_reachable CLIENT_NS IP — until one ping answers (10 s): handshakes, ARP, tinc's meta connection.
bl_wait_reachable() {
  local _
  for _ in $(seq 20); do
    ip netns exec "$1" ping -c 1 -W 0.5 "$2" >/dev/null 2>&1 && return 0
  done
  return 1
}

# bl_iperf_once CLIENT_NS SERVER_NS SERVER_IP SECONDS LOG → Gbit/s received (empty on failure)
bl_iperf_once() {
  local c=$1 s=$2 ip=$3 secs=$4 log=$5 spid _ out
  spid=$(bl_spawn "$s" "$log" iperf3 -s -1 -B "$ip")
  for _ in $(seq 100); do
    ip netns exec "$s" ss -Hltn "src $ip:5201" 2>/dev/null | grep -q . && break
    sleep 0.05
  done
  out=$(ip netns exec "$c" iperf3 -c "$ip" -t "$secs" -J 2>>"$log") || true
  bl_stop_pid "$spid" iperf3
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const b=JSON.parse(s).end.sum_received.bits_per_second;if(b>0)console.log((b/1e9).toFixed(4))}catch{}})' <<<"$out"
}

# bl_rtt_once CLIENT_NS IP → average RTT in ms over `ping -c 50 -i 0.01` (empty on failure)
bl_rtt_once() {
  ip netns exec "$1" ping -q -c 50 -i 0.01 -W 1 "$2" 2>/dev/null | awk -F/ '/^rtt/ {print $5}'
}

# bl_measure CLIENT_NS SERVER_NS SERVER_IP RUNS SECONDS LOG
#   → one line: "<median gbit/s> <median rtt ms> <gbit samples, comma-separated> <rtt samples, comma-separated>"
# Each run is one iperf3 TCP transfer then one 50-ping burst; the medians are over the runs.
bl_measure() {
  local c=$1 s=$2 ip=$3 runs=$4 secs=$5 log=$6 k g r gs=() rs=()
  bl_wait_reachable "$c" "$ip" || { echo "nan nan - -"; return 0; }
  ip netns exec "$c" ping -q -c 20 -i 0.01 "$ip" >/dev/null 2>&1 || true # warm caches, routes, neighbours
  for ((k = 0; k < runs; k++)); do
    g=$(bl_iperf_once "$c" "$s" "$ip" "$secs" "$log")
    r=$(bl_rtt_once "$c" "$ip")
    [ -n "$g" ] && gs+=("$g")
    [ -n "$r" ] && rs+=("$r")
  done
  local gm rm
  gm=$(printf '%s\n' "${gs[@]}" | grep . | bl_median)
  rm=$(printf '%s\n' "${rs[@]}" | grep . | bl_median)
  local gj rj
  gj=$(IFS=,; echo "${gs[*]:-}")
  rj=$(IFS=,; echo "${rs[*]:-}")
  echo "$gm $rm ${gj:--} ${rj:--}"
}
