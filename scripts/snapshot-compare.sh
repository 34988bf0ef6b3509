#!/usr/bin/env bash
# The disk-only snapshot beside libvirt's, the same python3-libvirt client
# against both daemons one after the other (issue figure: qvirtd at least
# 5x faster):
#
#   scripts/snapshot-compare.sh [RUNS] [ROUNDS]
#
# Each run starts a qvirtd of its own (its root on a tmpfs, as libvirtd's
# state is on tmpfs mounts in with-private-libvirtd.sh; the images on the
# disk under a temporary folder) and runs scripts/snapshot-vs-libvirt.py
# through its libvirt socket, then the same script against a private
# libvirtd 9.0 (scripts/with-private-libvirtd.sh). Prints one line per
# run: both daemons' medians of the external disk-only snapshot and
# their ratio. Needs root, release binaries (cargo build --release
# --bins) and Debian's libvirt-daemon-system (not installed by deps.sh:
# only this comparison uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
rounds=${2:-10}
[ "$(id -u)" -eq 0 ] || { echo "snapshot-compare: must run as root" >&2; exit 1; }
command -v libvirtd >/dev/null || { echo "snapshot-compare: libvirtd is missing (apt-get install libvirt-daemon-system)" >&2; exit 1; }
[ -x target/release/qvirtd ] || { echo "snapshot-compare: build first: cargo build --release --bins" >&2; exit 1; }

work=$(mktemp -d /var/tmp/qvirt-snapcmp.XXXXXX)
chmod 755 "$work"
qvirtd_pid=
cleanup() {
  if [ -n "$qvirtd_pid" ]; then kill "$qvirtd_pid" 2>/dev/null || true; wait "$qvirtd_pid" 2>/dev/null || true; fi
  umount "$work/root" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

median() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["external_ms"])'; }

for run in $(seq "$runs"); do
  mkdir -p "$work/root" "$work/q" "$work/l"
  mount -t tmpfs tmpfs "$work/root"
  ./target/release/qvirtd --root "$work/root/state" >"$work/qvirtd.log" 2>&1 &
  qvirtd_pid=$!
  for _ in $(seq 100); do [ -S "$work/root/state/run/libvirt-sock" ] && break; sleep 0.1; done
  q=$(/usr/bin/python3 scripts/snapshot-vs-libvirt.py \
      "qemu+unix:///session?socket=$work/root/state/run/libvirt-sock" "$work/q" "$rounds" 2>/dev/null | median)
  kill "$qvirtd_pid"; wait "$qvirtd_pid" 2>/dev/null || true
  qvirtd_pid=
  umount "$work/root"
  l=$(scripts/with-private-libvirtd.sh "$work/lv" sh -c \
      "/usr/bin/python3 scripts/snapshot-vs-libvirt.py \"\$LIBVIRTD_URI\" '$work/l' $rounds 2>/dev/null" | median)
  rm -rf "$work/q" "$work/l" "$work/lv"
  ratio=$(/usr/bin/python3 -c "print(f'{$l/$q:.1f}')")
  echo "run $run: qvirtd ${q} ms, libvirtd ${l} ms: ${ratio}x (load $(cut -d' ' -f1 /proc/loadavg))"
done
