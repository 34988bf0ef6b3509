#!/usr/bin/env bash
# Runs a command beside a libvirtd 9.0 of its own, to compare qvirtd with
# the real daemon (benchmarks, recorded sessions):
#
#   scripts/with-private-libvirtd.sh WORKDIR COMMAND [ARGS...]
#
# libvirtd runs in a private mount namespace whose /run, /etc/libvirt,
# /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt are empty
# tmpfs mounts (so a libvirtd already on the machine is neither seen nor
# touched, and nothing it defines outlives it), under a child subreaper
# (../shared/bench-libvirt/subreaper.py: QEMU's zombies are reaped at once,
# as under systemd), with its socket at WORKDIR/sock/libvirt-sock. The
# command gets LIBVIRTD_URI (qemu+unix:///system?socket=...) and
# LIBVIRTD_PID in its environment. libvirtd is stopped by its PID when the
# command ends, however it ends. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
[ $# -ge 2 ] || { echo "usage: $0 WORKDIR COMMAND [ARGS...]" >&2; exit 2; }
work=$(realpath -m "$1")
shift
if [ "$(id -u)" -ne 0 ]; then
  echo "with-private-libvirtd: must run as root (mounts tmpfs in a namespace)" >&2
  exit 1
fi
reaper="$repo/../shared/bench-libvirt/subreaper.py"
[ -f "$reaper" ] || reaper="${QVIRT_SHARED_DIR:-/work/shared}/bench-libvirt/subreaper.py"

mkdir -p "$work/sock"
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
# QEMU runs as root, and writes its output to a file rather than through
# virtlogd (which this namespace does not run).
cat >"$work/qemu.conf" <<EOF
user = "root"
group = "root"
stdio_handler = "file"
EOF

daemon_pid=
cleanup() {
  local rc=$?
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
      kill -0 "$daemon_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# `unshare` execs sh, which execs the subreaper (which forwards SIGTERM to
# libvirtd and exits with it), so $! is the process to stop.
rm -f "$work/libvirtd.child.pid"
SUBREAPER_CHILD_PIDFILE="$work/libvirtd.child.pid" \
unshare --mount --propagation private sh -ec '
  for d in /run /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
    mkdir -p "$d"
    mount -t tmpfs -o mode=0755 with-private-libvirtd "$d"
  done
  cp "$1/qemu.conf" /etc/libvirt/qemu.conf
  exec /usr/bin/python3 "$2" libvirtd -f "$1/libvirtd.conf"
' sh "$work" "$reaper" >"$work/daemon.out" 2>&1 &
daemon_pid=$!

uri="qemu+unix:///system?socket=$work/sock/libvirt-sock"
for _ in $(seq 1 300); do
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    echo "with-private-libvirtd: libvirtd exited at start:" >&2
    cat "$work/daemon.out" "$work/libvirtd.log" >&2 2>/dev/null || true
    exit 1
  fi
  virsh -q -c "$uri" uri >/dev/null 2>&1 && break
  sleep 0.1
done
virsh -q -c "$uri" uri >/dev/null
LIBVIRTD_URI=$uri LIBVIRTD_PID=$(cat "$work/libvirtd.child.pid") "$@"
