# shellcheck shell=bash
# QEMU guests for scripts/lab (sourced by it: uses its NS, LAB, ROOT, die, say, hex2, setting, daemon_pid).
#
# A guest VM hHvV runs in the namespace of the host it is on (vs-hJ: its home hH at first, another after a
# migration). Its files in $LAB: VM.at (the host it is on), VM@hJ.pid / .agent / .qmp / .console (one set per host
# it ran on). QEMU creates the TAP vm-VM in that namespace and runs bin/vswitch-ifup on it, which adds it to the
# host's daemon as a port; bin/vswitch-ifdown removes it when QEMU exits.
GUEST_CACHE=${VSWITCH_GUEST_CACHE:-/var/cache/vswitch-lab/guest}
MIGRATION_PORT=4444

hook_env() { # host CMD...: CMD in the host's namespace with what the QEMU hooks need to reach its daemon's API
  local host=$1 token=''
  shift
  [ "$(setting api-underlay)" != yes ] || token=$(cat "$LAB/api.token")
  ip netns exec "${NS}$host" env VSWITCH_API="http://$(api_addr "$host"):$API_PORT" ${token:+VSWITCH_TOKEN="$token"} "$@"
}

is_guest() { grep -qx "$1" "$LAB/guests" 2>/dev/null; }
guest_host() { cat "$LAB/$1.at"; }

guest_accel() { # → kvm or tcg (probed once per boot; the probe's verdict is said once)
  local forced=${VSWITCH_GUEST_ACCEL:-auto} cache boot
  case $forced in kvm | tcg) echo "$forced"; return ;; auto) ;; *) die "VSWITCH_GUEST_ACCEL must be kvm, tcg or auto" ;; esac
  boot=$(cat /proc/sys/kernel/random/boot_id)
  cache="$GUEST_CACHE/accel-$boot"
  if [ ! -f "$cache" ]; then
    mkdir -p "$GUEST_CACHE"
    if [ -r /dev/kvm ] && [ -w /dev/kvm ] && probe_kvm; then
      echo kvm >"$cache"
    else
      echo tcg >"$cache"
      say "guests: KVM cannot boot a guest here (${KVM_VERDICT:-/dev/kvm not usable}): using TCG (software emulation)"
    fi
  fi
  cat "$cache"
}

probe_kvm() { # boots the guest image under KVM without a NIC: does it reach /init within 10 s?
  local dir pid tries=0 kernel initrd
  eval "$(guest_image)"
  dir=$(mktemp -d)
  qemu-system-x86_64 -accel kvm -cpu host -m 128 -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$KERNEL" -initrd "$INITRD" -append "console=ttyS0 quiet panic=-1 vs.name=probe" \
    -chardev "file,id=con,path=$dir/console" -serial chardev:con -daemonize -pidfile "$dir/pid" 2>"$dir/err" ||
    { KVM_VERDICT="qemu: $(head -1 "$dir/err")"; rm -rf "$dir"; return 1; }
  pid=$(cat "$dir/pid")
  until grep -q 'ready' "$dir/console" 2>/dev/null; do
    ((++tries < 100)) || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  if grep -q 'ready' "$dir/console" 2>/dev/null; then rm -rf "$dir"; return 0; fi
  KVM_VERDICT="under KVM the guest printed nothing in 10 s"
  rm -rf "$dir"
  return 1
}

guest_image() { "$ROOT/scripts/guest-image" --out "$GUEST_CACHE"; }

guest_pid() { # VM HOST → QEMU's pid if it runs (and really is that guest), else empty
  local f="$LAB/$1@$2.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -d "/proc/$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-name $1 "; then echo "$pid"; fi
}

start_guest() { # VM HOST [incoming]: boots (or, with "incoming", readies for a migration) the guest VM on HOST
  local vm=$1 host=$2 incoming=${3:-} h v mtu accel cpu tries=0 extra=()
  [[ $vm =~ ^h([0-9]+)v([0-9]+)$ ]] || die "not a VM name: $vm"
  h=${BASH_REMATCH[1]} v=${BASH_REMATCH[2]}
  mtu=$(setting vm-mtu)
  eval "$(guest_image)"
  accel=$(guest_accel)
  cpu=max
  [ "$accel" = tcg ] || cpu=host
  [ -z "$incoming" ] || extra=(-incoming "tcp:$(underlay_ip "$host"):$MIGRATION_PORT")
  rm -f "$LAB/$vm@$host".{pid,agent,qmp,console}
  # vnet_hdr=off: without virtio-net headers on the TAP, QEMU offers the guest no checksum or TSO offload, so every
  # frame the guest sends is a whole, checksummed Ethernet frame — what a capture port takes today (a TSO
  # super-frame or a frame with its checksum left to the NIC would be refused or arrive broken).
  # The hooks reach the host's daemon at its API (the CLI's default, 127.0.0.1:7000 in the host's namespace).
  (VSWITCH_MTU="$mtu" without_inherited_fds hook_env "$host" qemu-system-x86_64 -name "$vm" -machine pc -accel "$accel" -cpu "$cpu" -m 256 -smp 1 \
    -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$KERNEL" -initrd "$INITRD" \
    -append "console=ttyS0 quiet panic=-1 vs.name=$vm vs.ip=198.19.$h.$v/16 vs.mtu=$mtu" \
    -chardev "file,id=con,path=$LAB/$vm@$host.console" -serial chardev:con \
    -chardev "socket,id=agent,path=$LAB/$vm@$host.agent,server=on,wait=off" -serial chardev:agent \
    -netdev "tap,id=n0,ifname=vm-$vm,vnet_hdr=off,script=$ROOT/bin/vswitch-ifup,downscript=$ROOT/bin/vswitch-ifdown" \
    -device "virtio-net-pci,netdev=n0,mac=02:00:c6:13:$(hex2 "$h"):$(hex2 "$v")" \
    -qmp "unix:$LAB/$vm@$host.qmp,server=on,wait=off" \
    -virtfs "local,path=/,mount_tag=hostfs,security_model=none,readonly=on,id=hostfs" \
    "${extra[@]}" -daemonize -pidfile "$LAB/$vm@$host.pid" 2>>"$LAB/$vm@$host.qemu.log") ||
    die "QEMU did not start $vm on $host: $(tail -3 "$LAB/$vm@$host.qemu.log")"
  [ -z "$incoming" ] || return 0
  echo "$host" >"$LAB/$vm.at"
  until grep -q "vswitch-guest $vm ready" "$LAB/$vm@$host.console" 2>/dev/null; do
    [ -n "$(guest_pid "$vm" "$host")" ] || die "guest $vm exited while booting (see $LAB/$vm@$host.console)"
    ((++tries < 600)) || die "guest $vm did not boot in 60 s (see $LAB/$vm@$host.console)"
    sleep 0.1
  done
}

stop_guest() { # VM HOST
  local pid
  pid=$(guest_pid "$1" "$2")
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
  [ ! -d "/proc/$pid" ] || kill -KILL "$pid" 2>/dev/null || true
}

stop_all_guests() {
  local f base
  for f in "$LAB"/*@*.pid; do
    [ -e "$f" ] || continue
    base=$(basename "$f" .pid)
    stop_guest "${base%@*}" "${base#*@}"
  done
}

guest_exec() { # VM CMD...: one command at a time per guest, through its serial agent (node: with the host's root)
  local vm=$1 host
  shift
  [ "$1" != node ] || set -- hostfs "$@"
  host=$(guest_host "$vm")
  exec 9>"$LAB/$vm.exec-lock"
  flock 9
  node "$ROOT/dist/scripts/lib/guest-exec.js" --socket "$LAB/$vm@$host.agent" --timeout-s "${VSWITCH_GUEST_EXEC_TIMEOUT_S:-120}" -- "$@"
}

qmp() { # VM HOST JSON-COMMAND → the answer's JSON line
  node "$ROOT/dist/scripts/lib/qmp.js" --socket "$LAB/$1@$2.qmp" --command "$3"
}

migrate_guest() { # VM HOST: live migration to HOST over the underlay; prints a JSON line of the times
  local vm=$1 to=$2 from started
  is_guest "$vm" || die "$vm is not a QEMU guest (use: scripts/lab move $vm $to)"
  from=$(guest_host "$vm")
  [ "$from" != "$to" ] || die "$vm is already on $to"
  [ -n "$(daemon_pid "$to")" ] || die "the daemon of $to is not running"
  start_guest "$vm" "$to" incoming
  started=$(date +%s%3N)
  node "$ROOT/dist/scripts/lib/qmp.js" --migrate "tcp:$(underlay_ip "$to"):$MIGRATION_PORT" \
    --socket "$LAB/$vm@$from.qmp" --destination "$LAB/$vm@$to.qmp" --vm "$vm" --from "$from" --to "$to" ||
    { stop_guest "$vm" "$to"; die "migrating $vm to $to failed"; }
  echo "$to" >"$LAB/$vm.at"
  # The source is paused after the switch-over: ending it runs its downscript, which removes its port.
  stop_guest "$vm" "$from"
  : "$started"
}
