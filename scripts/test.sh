#!/usr/bin/env bash
# Runs every test (.ci/run runs exactly this), on a fresh machine too: installs what is
# missing, then
#   1. cargo test --all-targets: unit, core against local peers, the plugin loaded by the
#      test host of several DolphinDB versions, the distribution (glibc-2.17 builds for x86_64
#      and aarch64, packages, installer, adding a server version), a ThreadSanitizer run of
#      the concurrent workload (tests/thread_sanitizer.rs);
#   2. the host suites again on AArch64: plugin cross-built, hosts built with
#      aarch64-linux-gnu-g++ and run under qemu-aarch64 (HTTPCLIENT_TEST_TARGET=aarch64);
#   3. a bounded fuzz run (4 targets x 20 s).
# Prints the time of each part at the end. Arguments are passed to part 1 (cargo test).
#
# Installs: aiosmtpd (the test SMTP server, PyPI); g++, valgrind, g++-aarch64-linux-gnu,
# qemu-user, unzip (apt); the Rust target aarch64-unknown-linux-gnu; the nightly toolchain's
# rust-src (ThreadSanitizer); ziglang, cargo-zigbuild, cbindgen (scripts/dist.sh).
# tests/add_version.rs needs a clone of github.com/dolphindb/DolphinDBPlugin, named by
# DOLPHINDB_PLUGIN_REPO (default /work/.mirror/dolphindb+DolphinDBPlugin/repo); without one it
# is skipped, and this script says so.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
    exit 0
fi

TIMES=()
START=$(date +%s)
ADD_VERSION=
report() {
    echo
    echo "scripts/test.sh timings:"
    for t in "${TIMES[@]}"; do echo "    $t"; done
    echo "    total: $(($(date +%s) - START)) s"
    [ -z "$ADD_VERSION" ] || echo "$ADD_VERSION"
}
trap report EXIT
# part <name> <command...>: runs the command and records its duration.
part() {
    local name=$1 begin
    shift
    begin=$(date +%s)
    echo "=== $name" >&2
    "$@"
    TIMES+=("$name: $(($(date +%s) - begin)) s")
}

install() {
    python3 -c "import aiosmtpd" 2>/dev/null || python3 -m pip install --quiet "aiosmtpd>=1.4"
    local missing=() tool package
    for pair in g++:g++ valgrind:valgrind aarch64-linux-gnu-g++:g++-aarch64-linux-gnu \
        qemu-aarch64:qemu-user unzip:unzip; do
        tool=${pair%%:*} package=${pair#*:}
        command -v "$tool" >/dev/null || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}"; fi
    rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
        rustup target add aarch64-unknown-linux-gnu
    # ThreadSanitizer (tests/thread_sanitizer.rs via scripts/tsan.sh) instruments the standard
    # library too: nightly's -Zbuild-std needs the library source.
    rustup toolchain list | grep '^nightly' >/dev/null || rustup toolchain install nightly --profile minimal
    rustup component add rust-src --toolchain nightly
    # ziglang, cargo-zigbuild, cbindgen for tests/dist.rs, package.rs, install.rs (if missing)
    bash scripts/dist.sh --install-tools --arch aarch64
}

MIRROR=${DOLPHINDB_PLUGIN_REPO:-}
[ -n "$MIRROR" ] && [ -e "$MIRROR" ] || MIRROR=/work/.mirror/dolphindb+DolphinDBPlugin/repo
if [ -e "$MIRROR" ]; then
    ADD_VERSION="tests/add_version.rs: runs against the DolphinDBPlugin repository $MIRROR"
else
    ADD_VERSION="tests/add_version.rs: SKIPS its main check (facts from the public headers equal the committed ones): no DolphinDBPlugin clone; set DOLPHINDB_PLUGIN_REPO to a clone of https://github.com/dolphindb/DolphinDBPlugin"
fi
echo "$ADD_VERSION" >&2

part "install tools" install
part "cargo test --all-targets" cargo test --all-targets "$@"
part "aarch64 host suites (qemu)" env HTTPCLIENT_TEST_TARGET=aarch64 \
    cargo test --test host_foundation --test host_http --test host_email
part "aarch64 bad-input battery (qemu)" env HTTPCLIENT_TEST_TARGET=aarch64 \
    cargo test --test reliability bad_input_battery
part "fuzz (4 x 20 s)" bash scripts/fuzz.sh 20
