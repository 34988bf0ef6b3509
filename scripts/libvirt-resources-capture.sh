#!/usr/bin/env bash
# Records what virsh and python3-libvirt 9.0 and a real libvirtd 9.0 say
# to each other over the memory, vCPU and statistics calls qvirt serves
# (scripts/libvirt-resources-session.py), into
# tests/data/xdr/libvirtd-9.0-resources.txt: one line per message, `c HEX`
# from the client, `d HEX` from the daemon. The XDR tests decode each
# message and check that qvirt encodes it back to the same bytes. Runs in
# a network namespace of its own (the session's domain has a tap). Needs
# root (a private libvirtd, see scripts/with-private-libvirtd.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d /tmp/libvirt-resources-capture.XXXXXX)
trap 'rm -rf "$work"' EXIT
out="$repo/tests/data/xdr/libvirtd-9.0-resources.txt"
mkdir -p "$(dirname "$out")"
unshare --net scripts/with-private-libvirtd.sh "$work/daemon" bash -ec '
  out=$1; work=$2; repo=$3
  target=${LIBVIRTD_URI#*socket=}
  : >"$work/record.txt"
  /usr/bin/python3 "$repo/scripts/libvirt-record.py" "$work/rec.sock" "$target" "$work/record.txt" &
  rec=$!
  trap "kill $rec 2>/dev/null || true" EXIT
  for _ in $(seq 1 100); do [ -S "$work/rec.sock" ] && break; sleep 0.05; done
  /usr/bin/python3 "$repo/scripts/libvirt-resources-session.py" "qemu+unix:///system?socket=$work/rec.sock" "$work"
  kill $rec; wait $rec 2>/dev/null || true
  {
    echo "# Messages between virsh / python3-libvirt 9.0 and libvirtd 9.0 over the"
    echo "# memory, vCPU and statistics calls, recorded by"
    echo "# scripts/libvirt-resources-capture.sh: c = client to daemon, d = daemon"
    echo "# to client."
    cat "$work/record.txt"
  } >"$out"
' sh "$out" "$work" "$repo"
echo "wrote $out ($(grep -c '^[cd] ' "$out") messages)"
