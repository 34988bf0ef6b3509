#!/usr/bin/env bash
# The same python3-libvirt client (../shared/bench-libvirt/libvirt_bench.py,
# unchanged) against qvirtd's libvirt socket and against a private
# libvirtd 9.0, one after the other in the same run, then both side by
# side:
#
#   scripts/libvirt-protocol-bench.sh WORKDIR [BENCH ARGS...]
#
# qvirtd is ./target/release/qvirtd (cargo build --release --bin qvirtd)
# on a fresh root under WORKDIR, stopped by its PID at the end. That root
# is a tmpfs, as the private libvirtd's /etc/libvirt and /run are: both
# daemons' durable writes then cost the same (QVIRT_BENCH_DISK=1 keeps
# qvirtd's root on WORKDIR's disk, to see what fsync costs there). The bench
# arguments default to the scenarios BENCHMARKS.md reports: define 1,000,
# lookup+info, list of 1,000, 8 clients, start and destroy of a
# firmware-only TCG VM. Writes WORKDIR/qvirtd.json and WORKDIR/libvirtd.json.
# Needs root (the private libvirtd).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
[ $# -ge 1 ] || { echo "usage: $0 WORKDIR [BENCH ARGS...]" >&2; exit 2; }
work=$(realpath -m "$1")
shift
bench="$repo/../shared/bench-libvirt/libvirt_bench.py"
[ -f "$bench" ] || bench="${QVIRT_SHARED_DIR:-/work/shared}/bench-libvirt/libvirt_bench.py"
qvirtd="$repo/target/release/qvirtd"
[ -x "$qvirtd" ] || { echo "build it first: cargo build --release --bin qvirtd" >&2; exit 1; }
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--only a,b,c,g,e --domains 1000 --lookups 5000
  --list-calls 20 --conc-levels 8 --per-client 1000 --cycles 10 --cycle-types qemu)

rm -rf "$work"
mkdir -p "$work/qvirtd-root"
mounted=
if [ "${QVIRT_BENCH_DISK:-0}" != 1 ]; then
  mount -t tmpfs -o mode=0700 tmpfs "$work/qvirtd-root"
  mounted=1
fi
unmount() { [ -z "$mounted" ] || umount "$work/qvirtd-root"; mounted=; }
"$qvirtd" --root "$work/qvirtd-root" 2>"$work/qvirtd.err" &
qpid=$!
trap 'kill -TERM $qpid 2>/dev/null || true; wait $qpid 2>/dev/null || true; unmount' EXIT
sock="$work/qvirtd-root/run/libvirt-sock"
for _ in $(seq 1 100); do
  [ -S "$sock" ] && break
  sleep 0.1
done
/usr/bin/python3 "$bench" --use-running --uri "qemu+unix:///session?socket=$sock" \
  "${args[@]}" --out "$work/qvirtd.json" >/dev/null
kill -TERM $qpid
wait $qpid || true
unmount
trap - EXIT

scripts/with-private-libvirtd.sh "$work/libvirtd" sh -c \
  '/usr/bin/python3 "$0" --use-running --uri "$LIBVIRTD_URI" "$@" >/dev/null' \
  "$bench" "${args[@]}" --out "$work/libvirtd.json"

/usr/bin/python3 - "$work/qvirtd.json" "$work/libvirtd.json" <<'PY'
import json, sys
q, l = (json.load(open(p)) for p in sys.argv[1:3])
print("| scenario (median) | qvirtd | libvirtd 9.0 | qvirtd faster by |")
print("|---|---:|---:|---:|")
def row(name, qv, lv, higher_is_better=False):
    times = qv / lv if higher_is_better else lv / qv
    print(f"| {name} | {qv:,.3f} | {lv:,.3f} | {times:.1f}x |")
def both(*keys):
    out = []
    for r in (q, l):
        for k in keys:
            r = r[k]
        out.append(r)
    return out
if "a_define" in q:
    row("defineXML, ms", *both("a_define", "per_op_ms", "median"))
if "b_lookup_info" in q:
    row("lookupByName + info, us", *both("b_lookup_info", "per_pair_us", "median"))
if "c_list" in q:
    row("listAllDomains of 1,000, ms", *both("c_list", "listAllDomains_ms", "median"))
    row("listAllDomains + info of each, ms", *both("c_list", "list_plus_info_each_ms", "median"))
for qg, lg in zip(q.get("g_concurrency", []), l.get("g_concurrency", [])):
    row(f"{qg['clients']} clients, lookup+info pairs/s", qg["pairs_per_s"], lg["pairs_per_s"], True)
for qe, le in zip(q.get("e_cycles", []), l.get("e_cycles", [])):
    row(f"create() of a {qe['type']} VM, ms", qe["create_ms"]["median"], le["create_ms"]["median"])
    row(f"destroy(), ms", qe["destroy_ms"]["median"], le["destroy_ms"]["median"])
PY
