#!/usr/bin/env bash
# Runs every verb of `virsh help domain`, `monitor` and `host` against a
# fresh qvirtd's libvirt socket with a running firmware-only guest, and
# prints one line per verb: `served`, `UNSUPPORTED` (the daemon answered
# VIR_ERR_NO_SUPPORT, naming the procedure), or `error` (another answer,
# first line shown). Verbs that change or end the guest run last.
# Usage: scripts/virsh-sweep.sh [QVIRTD]   (default target/debug/qvirtd)
set -uo pipefail
cd "$(dirname "$0")/.."
qvirtd=${1:-target/debug/qvirtd}
dir=$(mktemp -d /tmp/qvsweep.XXXXXX)
"$qvirtd" --root "$dir" >"$dir/qvirtd.out" 2>&1 &
daemon=$!
trap 'kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; rm -rf "$dir"' EXIT
sock=$dir/run/libvirt-sock
for _ in $(seq 1 500); do [ -S "$sock" ] && break; sleep 0.01; done
uri="qemu+unix:///session?socket=$sock"
v() { timeout 20 virsh -q -c "$uri" "$@"; }

cat >"$dir/g.xml" <<'EOF'
<domain type='qemu'><name>sweep</name><memory unit='MiB'>32</memory>
<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><memballoon model='virtio'/></devices></domain>
EOF
cat >"$dir/disk.xml" <<EOF
<disk type='file' device='disk'><driver name='qemu' type='raw'/>
<source file='$dir/d.img'/><target dev='vdb' bus='virtio'/></disk>
EOF
truncate -s 1M "$dir/d.img"
v define "$dir/g.xml" >/dev/null && v start sweep >/dev/null || {
  echo "cannot start the guest"; exit 1; }

# Arguments beyond the domain name, for verbs that need them.
declare -A args=(
  [attach-device]="sweep $dir/disk.xml" [detach-device]="sweep $dir/disk.xml"
  [update-device]="sweep $dir/disk.xml" [attach-disk]="sweep $dir/d.img vdc"
  [attach-interface]="sweep user" [detach-interface]="sweep user"
  [detach-disk]="sweep vdc" [detach-device-alias]="sweep ua-x"
  [blkdeviotune]="sweep vda" [blockcommit]="sweep vda" [blockcopy]="sweep vda $dir/c.img"
  [blockjob]="sweep vda" [blockpull]="sweep vda" [blockresize]="sweep vda 2M"
  [change-media]="sweep hdc --eject" [create]="$dir/g.xml" [define]="$dir/g.xml"
  [desc]="sweep" [domif-setlink]="sweep vnet0 up" [domiftune]="sweep vnet0"
  [domrename]="sweep sweep2" [domxml-from-native]="qemu-argv $dir/g.xml"
  [domxml-to-native]="qemu-argv --domain sweep" [dump]="sweep $dir/core"
  [send-key]="sweep KEY_A" [send-process-signal]="sweep 1 0"
  [iothreadpin]="sweep 1 0" [iothreadadd]="sweep 1" [iothreadset]="sweep 1 --poll-max-ns 0"
  [iothreaddel]="sweep 1" [metadata]="sweep --uri http://x/ --key x"
  [migrate]="sweep qemu:///nowhere" [numatune]="sweep --nodeset 0 --config" [perf]="sweep --enable cmt" [migrate-setmaxdowntime]="sweep 300"
  [migrate-compcache]="sweep" [migrate-setspeed]="sweep 100"
  [qemu-monitor-command]="sweep {\"execute\":\"query-status\"}"
  [qemu-agent-command]="sweep {\"execute\":\"guest-ping\"}" [guest-agent-timeout]="sweep"
  [restore]="$dir/g.save" [save]="sweep $dir/g.save" [save-image-define]="$dir/g.save $dir/g.xml"
  [save-image-dumpxml]="$dir/g.save" [screenshot]="sweep $dir/shot"
  [set-lifecycle-action]="sweep reboot restart" [set-user-sshkeys]="sweep root --file /dev/null"
  [set-user-password]="sweep root pw" [get-user-sshkeys]="sweep root"
  [setmaxmem]="sweep 32M --config" [setmem]="sweep 32M" [setvcpus]="sweep 1 --config"
  [update-memory-device]="sweep" [vcpupin]="sweep 0 0" [emulatorpin]="sweep 0" [setvcpu]="sweep 0 --enable"
  [domblkthreshold]="sweep vda 1M" [guestvcpus]="sweep" [dom-fd-associate]="sweep x 0"
  [domblkinfo]="sweep --all" [domblkstat]="sweep" [domif-getlink]="sweep vnet0"
  [domifstat]="sweep vnet0" [list]="--all" [domstats]="sweep"
  [lxc-enter-namespace]="sweep /bin/true" [qemu-attach]="1"
  [cpu-baseline]="/dev/null" [cpu-compare]="/dev/null" [cpu-models]="x86_64"
  [hypervisor-cpu-baseline]="/dev/null" [hypervisor-cpu-compare]="/dev/null"
  [freepages]="--all" [nodesuspend]="mem 60" [capabilities]="" [domcapabilities]=""
  [freecell]="" [hostname]="" [maxvcpus]="" [node-memory-tune]="" [nodecpumap]=""
  [nodecpustats]="" [nodeinfo]="" [nodememstats]="" [nodesevinfo]="" [sysinfo]=""
  [uri]="" [version]="" [hypervisor]="" [qemu-monitor-event]="--timeout 1"
  [domdirtyrate-calc]="sweep --seconds 1" [domsetlaunchsecstate]="sweep --secrethdr /dev/null --secret /dev/null"
)
# Interactive or editor-driven verbs, not run.
skip=" console edit managedsave-edit save-image-edit ttyconsole "
# Verbs that change or end the guest, in the order they run, last.
late="dompmsuspend dompmwakeup domjobabort suspend resume inject-nmi reset reboot
  managedsave managedsave-remove managedsave-dumpxml managedsave-define start save
  save-image-dumpxml save-image-define restore dump nodesuspend domrename shutdown destroy
  undefine"

late=$(echo $late)
verbs=$(for g in domain monitor host; do virsh help $g | awk 'NR>1 && NF {print $1}'; done)
early=$(for verb in $verbs; do
  case " $skip $late " in *" $verb "*) ;; *) echo "$verb" ;; esac; done)
for verb in $early $late; do
  case "$skip" in *" $verb "*) printf '%-26s skipped (interactive)\n' "$verb"; continue ;; esac
  a=${args[$verb]-sweep}
  # shellcheck disable=SC2086
  out=$(v "$verb" $a </dev/null 2>&1 >/dev/null)
  rc=$?
  if grep -q 'not supported' <<<"$out"; then
    printf '%-26s UNSUPPORTED %s\n' "$verb" "$(grep -o 'not supported.*' <<<"$out" | head -1)"
  elif [ $rc -eq 0 ]; then
    printf '%-26s served\n' "$verb"
  else
    printf '%-26s error: %s\n' "$verb" "$(grep -v "^$" <<<"$out" | tail -1)"
  fi
done
