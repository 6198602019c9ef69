#!/usr/bin/env bash
# Runs every test: installs what the test peers need (aiosmtpd for the SMTP server),
# then the Rust suites (unit, core against local peers, the plugin loaded by the test
# host of several DolphinDB versions, and a ThreadSanitizer run of the concurrent workload,
# tests/thread_sanitizer.rs). Safe to run on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import aiosmtpd" 2>/dev/null || python3 -m pip install --quiet "aiosmtpd>=1.4"
missing=()
for tool in g++ valgrind; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}"; fi
# ThreadSanitizer (tests/thread_sanitizer.rs via scripts/tsan.sh) instruments the standard
# library too: nightly's -Zbuild-std needs the library source.
rustup toolchain list | grep '^nightly' >/dev/null || rustup toolchain install nightly --profile minimal
rustup component add rust-src --toolchain nightly
bash scripts/dist.sh --install-tools  # ziglang, cargo-zigbuild, cbindgen for tests/dist.rs (if missing)
cargo test --all-targets "$@"
bash scripts/fuzz.sh 20              # bounded fuzzing: 4 targets x 20 s
