#!/usr/bin/env bash
# Regenerates tests/data/virt-install/: the domain XML that virt-install
# (Debian 12's `virtinst`) writes, for a spread of operating systems from
# its osinfo database and for each family of its device options.
#
# It runs its own libvirtd, in a private mount namespace whose /run,
# /etc/libvirt, /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt
# are empty tmpfs mounts: whatever virt-install or `virsh define` leaves
# in that daemon (storage pools, domain definitions) disappears with it,
# and a libvirtd already on the machine is neither seen nor touched. The
# daemon is stopped by its PID when the script ends, however it ends.
#
# Usage: scripts/virt-install-corpus.sh [--no-sweep] [FILTER]
#   --no-sweep  skip the pass over every OS in the osinfo database that
#               adds one case per distinct default XML (about 15 minutes)
#   FILTER      only regenerate the cases whose name contains FILTER
#               (the manifest is then left as it is)
# Needs root (to install packages and mount tmpfs in a namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

packages=(virtinst libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
  qemu-system-x86 ovmf swtpm swtpm-tools python3)

if [ "$(id -u)" -ne 0 ]; then
  echo "virt-install-corpus: must run as root (installs packages, mounts tmpfs in a namespace)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "virt-install-corpus: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The paths below appear in the generated XML (install media, disks), so
# they are fixed rather than random: a rerun must produce the same files.
work=/tmp/virt-install-corpus
exec 9>/tmp/virt-install-corpus.lock
if ! flock -n 9; then
  echo "virt-install-corpus: another run holds /tmp/virt-install-corpus.lock" >&2
  exit 1
fi

daemon_pid=
driver_pid=
cleanup() {
  local rc=$?
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$daemon_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$daemon_pid" 2>/dev/null; then
      echo "virt-install-corpus: libvirtd $daemon_pid did not stop on SIGTERM; killing it" >&2
      kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$work"
mkdir -p "$work/sock" "$work/media"

cat >"$work/libvirtd.conf" <<EOF
unix_sock_dir = "$work/sock"
unix_sock_group = "root"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$work/libvirtd.log"
EOF
# QEMU (probed for capabilities) runs as root: with the default
# libvirt-qemu user, a /dev/kvm that only root may open makes every
# connection re-probe QEMU, since KVM looks gone since the last probe.
cat >"$work/qemu.conf" <<EOF
user = "root"
group = "root"
EOF

# The daemon: `unshare` execs sh, which execs libvirtd, so $! is
# libvirtd's own PID. The tmpfs size is only a limit: virt-install checks
# that a new disk's full size fits in its pool (/var/lib/libvirt/images)
# though --dry-run creates nothing.
unshare --mount --propagation private sh -ec '
  for d in /run /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
    mkdir -p "$d"
    mount -t tmpfs -o mode=0755,size=64T virt-install-corpus "$d"
  done
  cp "$1/qemu.conf" /etc/libvirt/qemu.conf
  exec libvirtd -f "$1/libvirtd.conf" -p "$1/libvirtd.pid"
' sh "$work" >"$work/daemon.out" 2>&1 &
daemon_pid=$!

uri="qemu:///system?socket=$work/sock/libvirt-sock"
for _ in $(seq 1 300); do
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    echo "virt-install-corpus: libvirtd exited at start:" >&2
    cat "$work/daemon.out" "$work/libvirtd.log" >&2 2>/dev/null || true
    echo "(a private mount namespace needs root with CAP_SYS_ADMIN)" >&2
    exit 1
  fi
  virsh -q -c "$uri" uri >/dev/null 2>&1 && break
  sleep 0.1
done
virsh -q -c "$uri" uri >/dev/null

# virt-install writes type='kvm' and a host-passthrough CPU when KVM is
# usable; without it every file would differ (type='qemu', other CPU).
if ! virsh -q -c "$uri" domcapabilities --virttype kvm >/dev/null 2>&1; then
  echo "virt-install-corpus: this host has no usable KVM; the corpus is made on a KVM host" >&2
  exit 1
fi

# In the background so that a signal to this script runs the trap now.
/usr/bin/python3 "$repo/scripts/virt-install-corpus.py" \
  --uri "$uri" --work "$work" --out "$repo/tests/data/virt-install" "$@" &
driver_pid=$!
wait "$driver_pid"
driver_pid=

# Nothing may stay defined in the daemon, whatever a case did.
left=$(virsh -q -c "$uri" list --all --name | sed '/^$/d')
if [ -n "$left" ]; then
  echo "virt-install-corpus: domains left defined: $left" >&2
  exit 1
fi
