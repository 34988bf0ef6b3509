#!/usr/bin/env bash
# How much of a folder of domain XML files qvirt accepts: each file is
# validated against libvirt's schema (xmllint, ../shared/schemas or
# $QVIRT_SCHEMA), then defined on a scratch embedded manager and
# undefined again. Prints one line per file (valid|invalid, name, ok or
# the error) to RESULT and the counts on stdout.
#
# Usage: scripts/xml-acceptance.sh DIR [RESULT]
#   QVIRT=path/to/qvirt (default: target/release/qvirt)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: scripts/xml-acceptance.sh DIR [RESULT]}
out=${2:-/dev/null}
q=${QVIRT:-$PWD/target/release/qvirt}
rng=${QVIRT_SCHEMA:-$PWD/../shared/schemas/libvirt/domain.rng}
[ -x "$q" ] || { echo "no $q: cargo build --release first" >&2; exit 1; }
[ -f "$rng" ] || { echo "no schema at $rng (set QVIRT_SCHEMA)" >&2; exit 1; }
command -v xmllint >/dev/null || { echo "xmllint is missing (Debian: libxml2-utils)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
uri="qemu:///embed?root=$root"
files=0 valid=0 accepted=0
: >"$out"
for f in "$dir"/*.xml; do
  files=$((files + 1))
  if xmllint --noout --relaxng "$rng" "$f" >/dev/null 2>&1; then v=valid; valid=$((valid + 1)); else v=invalid; fi
  if err=$("$q" -c "$uri" define "$f" 2>&1 >/dev/null); then
    r=ok
    [ "$v" = valid ] && accepted=$((accepted + 1))
    name=$(xmllint --xpath 'string(/domain/name)' "$f" 2>/dev/null || true)
    "$q" -c "$uri" undefine --nvram "$name" >/dev/null 2>&1 ||
      "$q" -c "$uri" undefine "$name" >/dev/null 2>&1 || true
  else
    r=$(printf '%s' "$err" | tr '\n' '|')
  fi
  printf '%s\t%s\t%s\n' "$v" "${f##*/}" "$r" >>"$out"
done
echo "files: $files, schema-valid: $valid, schema-valid and accepted: $accepted"
