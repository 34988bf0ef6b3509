#!/usr/bin/env bash
# Writes src/transport/libvirt/names.rs: the name of every procedure of
# libvirt's main program, by number, read from libvirt's
# remote_protocol.x (so that a procedure qvirtd does not serve is refused
# by name). Usage: scripts/libvirt-procedure-names.sh [LIBVIRT_SOURCE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-/work/libvirt-src/libvirt-9.0.0}
x="$src/src/remote/remote_protocol.x"
out=src/transport/libvirt/names.rs
{
  echo '//! The names of the procedures of libvirt 9.0'"'"'s main program, by number'
  echo '//! (`REMOTE_PROC_*` of `remote_protocol.x`, without the prefix). Written'
  echo '//! by `scripts/libvirt-procedure-names.sh`; do not edit.'
  echo
  echo '/// `NAMES[n]` is the name of procedure `n`; 0 is no procedure.'
  echo 'pub const NAMES: &[&str] = &['
  echo '    "",'
  sed -n '/^enum remote_procedure/,$p' "$x" |
    grep -E '^\s+REMOTE_PROC_\w+ = [0-9]+' |
    sed -E 's/^\s+REMOTE_PROC_(\w+) = ([0-9]+).*/\2 \1/' |
    awk 'BEGIN{n=1} { if ($1 != n) { print "gap at " n > "/dev/stderr"; exit 1 } printf "    \"%s\",\n", $2; n++ }'
  echo '];'
} >"$out"
echo "wrote $out"
