#!/usr/bin/env bash
# Regenerates tests/data/libvirt-9.0/: libvirt 9.0's own QEMU test inputs
# (tests/qemuxml2argvdata in Debian 12's libvirt source package) for x86
# guests, each with libvirt's expected command line or error.
#
# Usage: scripts/libvirt-testdata.sh [LIBVIRT_SOURCE_DIR]
#   LIBVIRT_SOURCE_DIR  an unpacked libvirt 9.0.0 source tree to read;
#                       without it, `apt-get source libvirt` fetches one
#                       into a temporary folder (adding a deb-src entry for
#                       Debian 12 when APT has none; that needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out="$repo/tests/data/libvirt-9.0"

tmp=
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT

src=${1:-}
if [ -z "$src" ]; then
  if ! apt-cache showsrc libvirt 2>/dev/null | grep -q '^Version: 9\.0\.0-'; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "libvirt-testdata: APT has no libvirt 9.0.0 source; run as root to add a deb-src entry," >&2
      echo "or pass an unpacked libvirt-9.0.0 source tree" >&2
      exit 1
    fi
    echo "libvirt-testdata: adding /etc/apt/sources.list.d/libvirt-testdata-src.sources (deb-src, bookworm)" >&2
    cat >/etc/apt/sources.list.d/libvirt-testdata-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq
  fi
  if ! command -v dpkg-source >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "libvirt-testdata: apt-get source needs dpkg-source: apt-get install dpkg-dev" >&2
      exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
  fi
  version=$(apt-cache showsrc libvirt | sed -n 's/^Version: \(9\.0\.0-.*\)/\1/p' | sort -V | tail -1)
  if [ -z "$version" ]; then
    echo "libvirt-testdata: APT offers no libvirt 9.0.0 source even with a deb-src entry" >&2
    exit 1
  fi
  tmp=$(mktemp -d)
  echo "libvirt-testdata: fetching libvirt $version source" >&2
  (cd "$tmp" && apt-get source -qq "libvirt=$version" >/dev/null 2>"$tmp/apt.log") || {
    cat "$tmp/apt.log" >&2
    exit 1
  }
  src="$tmp/libvirt-9.0.0"
fi

if [ ! -d "$src/tests/qemuxml2argvdata" ] || [ ! -f "$src/COPYING.LESSER" ]; then
  echo "libvirt-testdata: $src is not a libvirt source tree (no tests/qemuxml2argvdata)" >&2
  exit 1
fi
upstream=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" "$src/meson.build" | head -1)
if [ "$upstream" != "9.0.0" ]; then
  echo "libvirt-testdata: $src is libvirt '$upstream', not 9.0.0" >&2
  exit 1
fi
if [ -f "$src/debian/changelog" ]; then
  echo "libvirt-testdata: source $(head -1 "$src/debian/changelog" | cut -d' ' -f1,2)" >&2
fi

python3 "$repo/scripts/libvirt-testdata.py" "$src" "$out"
cp "$src/COPYING.LESSER" "$out/COPYING.LESSER"
