#!/usr/bin/env bash
# Bounded fuzzing of argument decoding, header/URL building and e-mail building with
# cargo-fuzz (libFuzzer). Usage: scripts/fuzz.sh [seconds per target, default 20].
# Longer runs: scripts/fuzz.sh 3600. A crash leaves its input in fuzz/artifacts/<target>/;
# replay with `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <file>` and add it as a regression test.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-20}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
# cargo-fuzz passes -Z flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
for target in header_string url_building email_message argument_decoding; do
  cargo fuzz run -O "$target" -- -max_total_time="$seconds" 2>&1 | grep -E "^Done|ERROR|panicked" || true
  test "${PIPESTATUS[0]}" -eq 0 || { echo "fuzz target $target failed"; exit 1; }
done
echo "fuzz: 4 targets, ${seconds}s each, no crash"
