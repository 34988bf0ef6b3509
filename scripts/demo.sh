#!/usr/bin/env bash
# The main job: show the QEMU command line qvirt builds for the shipped
# example domain (examples/demo.xml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --quiet --bin qvirt
./target/release/qvirt domxml-to-native qemu-argv examples/demo.xml
