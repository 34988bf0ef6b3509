#!/usr/bin/env bash
# Records what python3-libvirt 9.0 and a real libvirtd 9.0 say to each
# other over tests/libvirt/storage.py (every storage pool and volume call
# qvirt serves) and a few of virsh's storage verbs that fail (an unknown
# pool, an unknown volume), into tests/data/xdr/libvirtd-9.0-storage.txt:
# one line per message, `c HEX` from the client, `d HEX` from the daemon.
# The XDR tests decode each message and check that qvirt encodes it back
# to the same bytes. Needs root (a private libvirtd, see
# scripts/with-private-libvirtd.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d /tmp/libvirt-storage-capture.XXXXXX)
trap 'rm -rf "$work"' EXIT
out="$repo/tests/data/xdr/libvirtd-9.0-storage.txt"
mkdir -p "$(dirname "$out")"
scripts/with-private-libvirtd.sh "$work/daemon" bash -ec '
  out=$1; work=$2; repo=$3
  target=${LIBVIRTD_URI#*socket=}
  : >"$work/record.txt"
  /usr/bin/python3 "$repo/scripts/libvirt-record.py" "$work/rec.sock" "$target" "$work/record.txt" &
  rec=$!
  trap "kill $rec 2>/dev/null || true" EXIT
  for _ in $(seq 1 100); do [ -S "$work/rec.sock" ] && break; sleep 0.05; done
  uri="qemu+unix:///system?socket=$work/rec.sock"
  mkdir -p "$work/py"
  /usr/bin/python3 "$repo/tests/libvirt/storage.py" "$uri" "$work/py"
  ! virsh -c "$uri" pool-info nope 2>/dev/null
  ! virsh -c "$uri" vol-info nope --pool nope 2>/dev/null
  kill $rec; wait $rec 2>/dev/null || true
  {
    echo "# Messages between python3-libvirt / virsh 9.0 and libvirtd 9.0 over the"
    echo "# storage calls, recorded by scripts/libvirt-storage-capture.sh:"
    echo "# c = client to daemon, d = daemon to client."
    cat "$work/record.txt"
  } >"$out"
' sh "$out" "$work" "$repo"
echo "wrote $out ($(grep -c '^[cd] ' "$out") messages)"
