#!/usr/bin/env bash
# The test command: installs what the tests need, then runs the whole
# suite (unit, golden, corpus, property and QEMU tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# The tiny Linux guest that boot, shutdown, console and save tests run;
# built once from Debian packages and cached outside the tree.
bash tests/guest/build-guest.sh >/dev/null
cargo test --all-targets "$@"
# The examples in the documentation compile and run.
cargo test --doc "$@"
