#!/usr/bin/env bash
# Builds the plugin and the test host for a ThreadSanitizer run, used by
# tests/thread_sanitizer.rs (part of `cargo test`), which runs the concurrent mixed workload
# through them and fails on any ThreadSanitizer report.
#
# usage: scripts/tsan.sh [version ...]   (default 3.00.3)
# Prints `PLUGIN <path of libPluginHttpClient.so>` and one `HOST <version> <path>` per version.
#
# Everything Rust is instrumented, the standard library included (nightly, -Zbuild-std):
# std's Mutex, RwLock, Once/OnceLock, channels and Arc synchronise with futexes and atomics
# in its own code, which the precompiled std has without instrumentation, so ThreadSanitizer
# cannot see that synchronisation and reports races that are not there (the same run on
# stable without build-std: 141 and 172 such reports for the two hosts). Needs the nightly
# toolchain with rust-src (scripts/test.sh installs it). Output under target/tsan/ only;
# the normal plugin and hosts (target/<profile>/) are never touched.
#
# The host is compiled by g++ with -fsanitize=thread (its reference counts, live-object
# counter and threads are instrumented too) but linked against Rust's own ThreadSanitizer
# runtime instead of GCC's libtsan: GCC 12's libtsan is an older runtime that lacks entry
# points the LLVM-instrumented plugin calls (__tsan_memcpy ...), and a process must hold
# exactly one runtime. -nodefaultlibs keeps g++ from adding -ltsan; the default libraries
# are listed again by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.00.3)

# Called from a cargo test: drop what the outer (stable) cargo set for its own children.
for name in $(compgen -e); do
  case "$name" in
    CARGO_HOME) ;;
    CARGO* | RUSTC* | RUSTDOC* | RUSTFLAGS | RUSTUP_TOOLCHAIN | RUST_RECURSION_COUNT | __CARGO*) unset "$name" ;;
  esac
done
unset LD_LIBRARY_PATH

target=x86_64-unknown-linux-gnu
out=$repo/target/tsan
sysroot=$(rustc +nightly --print sysroot) || {
  echo "scripts/tsan.sh: the nightly toolchain is required (rustup toolchain install nightly --component rust-src)" >&2
  exit 2
}
[ -d "$sysroot/lib/rustlib/src/rust/library" ] || {
  echo "scripts/tsan.sh: rust-src for nightly is required (rustup component add rust-src --toolchain nightly)" >&2
  exit 2
}
runtime=$sysroot/lib/rustlib/$target/lib/librustc-nightly_rt.tsan.a
[ -f "$runtime" ] || { echo "scripts/tsan.sh: no ThreadSanitizer runtime at $runtime" >&2; exit 2; }

# opt-level 1 (ThreadSanitizer's recommendation: fast enough, frames still accurate),
# line tables for the reports' stacks.
RUSTFLAGS="-Zsanitizer=thread" \
  CARGO_TARGET_DIR=$out \
  CARGO_PROFILE_DEV_OPT_LEVEL=1 \
  CARGO_PROFILE_DEV_DEBUG=line-tables-only \
  cargo +nightly build --quiet --lib -Zbuild-std --target "$target" --manifest-path "$repo/Cargo.toml" >&2
plugin=$out/$target/debug/libPluginHttpClient.so
[ -f "$plugin" ] || { echo "scripts/tsan.sh: $plugin not built" >&2; exit 1; }
echo "PLUGIN $plugin"

export HOST_CXXFLAGS="-fsanitize=thread -nodefaultlibs -Wl,--whole-archive '$runtime' -Wl,--no-whole-archive -lstdc++ -lm -lgcc_s -lgcc -lc -lrt"
for v in "${versions[@]}"; do
  host=$(python3 host/build_host.py "$v" --out "$out/hosts" | tail -n 1)
  echo "HOST $v $host"
done
