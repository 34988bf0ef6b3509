#!/usr/bin/env bash
# The test command: installs what the tests need, then runs the whole
# suite (unit, golden, corpus, property and QEMU tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo test --all-targets "$@"
