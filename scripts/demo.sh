#!/usr/bin/env bash
# The main job: define the tiny Linux test guest on the embedded default
# state directory, boot it, show it running and its console marker, then
# shut it down through ACPI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
guest_dir=$(bash tests/guest/build-guest.sh | tail -n 1)
cargo build --release --quiet --bin qvirt
root=${QVIRT_DEMO_ROOT:-${XDG_DATA_HOME:-$HOME/.local/share}/qvirt/embed}
uri="qemu:///embed?root=$root"
qvirt() { ./target/release/qvirt -c "$uri" "$@"; }
echo "== using $uri"

xml=$(mktemp)
trap 'rm -f "$xml"' EXIT
sed "s|@GUEST_DIR@|$guest_dir|g" examples/guest.xml.in >"$xml"
if qvirt domstate demo >/dev/null 2>&1; then
  qvirt destroy demo >/dev/null 2>&1 || true
  qvirt undefine demo
fi
qvirt define "$xml"
log="$root/log/console/demo.log"
: >"$log" 2>/dev/null || true
qvirt start demo
qvirt list

echo "== waiting for the guest's console marker"
for _ in $(seq 1 300); do
  grep -q QVIRT-GUEST-READY "$log" 2>/dev/null && break
  sleep 0.1
done
grep -m1 QVIRT-GUEST-READY "$log"

qvirt shutdown demo --wait --timeout 60
qvirt list --all
qvirt domstate demo --reason
