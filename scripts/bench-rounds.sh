#!/bin/bash
# Interleaved benchmark rounds: qvirt embedded, qvirt through qvirtd, then
# libvirt 9 (../shared/bench-libvirt), ROUNDS times, into OUT; then the
# table of BENCHMARKS.md from them (scripts/bench-table.py OUT).
#
# Each qvirt run gets a fresh directory under FRESH (default /root or
# $HOME): on ext4 without a journal, creating files where thousands were
# just deleted is slow for minutes, and a state directory is normally
# not such a place (libvirt's /etc/libvirt/qemu is not either).
#
# Needs: root for libvirt's run (apt-get install -y libvirt-daemon-system
# libvirt-clients python3-libvirt); the libvirt guest from
# ../shared/bench-libvirt/run-all.sh or make-guest.sh in LIBVIRT_GUEST.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: scripts/bench-rounds.sh OUT [ROUNDS]}
ROUNDS=${2:-3}
FRESH=${FRESH:-$HOME}
LIBVIRT_GUEST=${LIBVIRT_GUEST:-/tmp/libvirt-results/guest}
mkdir -p "$OUT"
cargo build --release --bin qvirt-bench --bin qvirtd
for r in $(seq 1 "$ROUNDS"); do
  for kind in embed daemon; do
    dir=$(mktemp -d "$FRESH/qvb.XXXXXX")
    TMPDIR=$dir ./target/release/qvirt-bench --uri "$kind" --json \
      > "$OUT/$kind-$r.json" 2> "$OUT/$kind-$r.err"
    rm -rf "$dir"
  done
  /usr/bin/python3 ../shared/bench-libvirt/libvirt_bench.py \
    --only a,b,c,d,g,undef,e,f --cycle-types qemu --boot-kernels vmlinux \
    --conc-levels 1,8 --guest "$LIBVIRT_GUEST" --out "$OUT/libvirt-$r.json" \
    > "$OUT/libvirt-$r.log" 2>&1
done
python3 scripts/bench-table.py "$OUT"
