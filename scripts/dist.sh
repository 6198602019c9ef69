#!/usr/bin/env bash
# Builds the distributable plugin: a release libPluginHttpClient.so linked against glibc 2.17
# (CentOS 7 and newer) with zig as the C compiler and linker (cargo-zigbuild), for x86_64 or
# aarch64 Linux, and writes the folder loadPlugin / installPlugin expect.
#
#   scripts/dist.sh                  # dist/httpClient/{PluginHttpClient.txt,libPluginHttpClient.so}, 2.00.16
#   scripts/dist.sh 3.00.3           # the same, descriptor for server 3.00.3
#   scripts/dist.sh all              # dist/httpClient-<version>/... for every supported version
#   scripts/dist.sh 3.00.3 --arch aarch64
#                                    # dist/aarch64/httpClient/...: AArch64 Linux (Kunpeng, Graviton, ...)
#   scripts/dist.sh all --out DIR    # write the folders into DIR instead of dist/ (dist/aarch64/)
#   scripts/dist.sh --install-tools [--arch aarch64]
#                                    # only install the tools: ziglang (PyPI), cargo-zigbuild and
#                                    # cbindgen (crates.io); for aarch64 also the Rust target and
#                                    # Debian's g++-aarch64-linux-gnu (apt)
#   scripts/dist.sh --header         # only regenerate include/httpclient.h (cbindgen) from src/abi/c_api.rs
#
# Honors CARGO_TARGET_DIR (default: target/). The library is built once per architecture
# (target/zigbuild/<triple>/release/); every folder gets a copy of the same file (one binary serves
# every supported server version of its architecture). Prints each folder written.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GLIBC=2.17
ARCH=x86_64

die() { echo "dist.sh: $*" >&2; exit 2; }

# The C compiler whose libgcc_s.so.1 the library is linked against (see below).
gcc_for() { case "$1" in x86_64) echo gcc ;; aarch64) echo aarch64-linux-gnu-gcc ;; esac; }

install_tools() {
    python3 -c "import ziglang" 2>/dev/null || python3 -m pip install --quiet "ziglang>=0.13"
    command -v cargo-zigbuild >/dev/null || cargo install --quiet --locked cargo-zigbuild
    command -v cbindgen >/dev/null || cargo install --quiet --locked cbindgen
    if [ "$ARCH" = aarch64 ]; then
        rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu ||
            rustup target add aarch64-unknown-linux-gnu
        if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
            command -v apt-get >/dev/null ||
                die "aarch64 needs aarch64-linux-gnu-gcc (its libgcc_s.so.1): install your distribution's aarch64 cross compiler"
            apt-get update -qq && apt-get install -y -qq g++-aarch64-linux-gnu
        fi
    fi
}

header() {
    cbindgen --quiet --config include/cbindgen.toml --lang c --output include/httpclient.h src/abi/c_api.rs
}

VERSION=2.00.16
OUT=
ACTION=build
while [ $# -gt 0 ]; do
    case "$1" in
    --install-tools) ACTION=tools ;;
    --header) ACTION=header ;;
    --arch)
        [ $# -ge 2 ] || die "--arch needs x86_64 or aarch64"
        ARCH=$2; shift ;;
    --arch=*) ARCH=${1#--arch=} ;;
    --out)
        [ $# -ge 2 ] || die "--out needs a directory"
        OUT=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) VERSION=$1 ;;
    esac
    shift
done
case "$ARCH" in
x86_64 | aarch64) ;;
amd64) ARCH=x86_64 ;;
arm64) ARCH=aarch64 ;;
*) die "--arch $ARCH: x86_64 or aarch64" ;;
esac
case "$ACTION" in
tools) install_tools; exit 0 ;;
header) header; exit 0 ;;
esac
TRIPLE=$ARCH-unknown-linux-gnu
if [ -z "$OUT" ]; then
    if [ "$ARCH" = x86_64 ]; then OUT=$ROOT/dist; else OUT=$ROOT/dist/$ARCH; fi
fi

install_tools
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# Cargo sets these for the test binaries that run this script (tests/dist.rs, package.rs,
# install.rs). ring's build script reruns when CARGO_MANIFEST_DIR changes, which would redo
# the whole release build (minutes) each time the caller alternates between a test and a
# shell; the build itself gets them from cargo anyway.
unset CARGO_MANIFEST_DIR CARGO_MANIFEST_PATH CARGO_CRATE_NAME CARGO_PRIMARY_PACKAGE \
    CARGO_TARGET_TMPDIR OUT_DIR
while read -r var; do unset "$var"; done < <(compgen -e | grep -E '^CARGO_(PKG_|BIN_EXE_|BIN_NAME$)' || true)
# Unwinding must go through the system's libgcc_s, as in every C++ process: the ABI layer
# throws the server's C++ exceptions through Rust frames, and Rust's personality routine must
# read the unwinder context with the same unwinder that raised it (libgcc_s). cargo-zigbuild
# replaces -lgcc_s with zig's static libunwind (a second, private unwinder: the server
# segfaults on the first exception), so the library is linked against libgcc_s.so.1 itself,
# which makes zig's libunwind unused. Its symbol versions are old (GCC_3.0 ... GCC_4.2.0).
# For aarch64 that is the cross toolchain's libgcc_s.so.1 (/usr/aarch64-linux-gnu/lib/).
CC_FOR_ARCH=$(gcc_for "$ARCH")
command -v "$CC_FOR_ARCH" >/dev/null || die "$CC_FOR_ARCH not found (it provides the $ARCH libgcc_s.so.1)"
GCC_S=$("$CC_FOR_ARCH" -print-file-name=libgcc_s.so.1)
[ -f "$GCC_S" ] || die "libgcc_s.so.1 for $ARCH not found ($CC_FOR_ARCH -print-file-name gave $GCC_S)"
# A build directory of its own: any other release build for the same triple (cargo fuzz,
# `cargo build --release --target ...`) would overwrite target/<triple>/release/
# libPluginHttpClient.so with a library that is not linked for glibc 2.17, and cargo does not
# copy its own artifact there again while it is up to date.
ZIG_TARGET_DIR=$TARGET_DIR/zigbuild
start=$(date +%s)
CARGO_TARGET_DIR=$ZIG_TARGET_DIR cargo-zigbuild rustc --release --target "$TRIPLE.$GLIBC" --lib -- -C "link-arg=$GCC_S"
echo "dist.sh: zigbuild ($ARCH) took $(($(date +%s) - start)) s" >&2
BUILT=$ZIG_TARGET_DIR/$TRIPLE/release/libPluginHttpClient.so
[ -f "$BUILT" ] || die "$BUILT was not built"
# Strip with the binutils of the target when present (Debian's objcopy also reads AArch64 ELF).
OBJCOPY=objcopy
command -v "$ARCH-linux-gnu-objcopy" >/dev/null && OBJCOPY=$ARCH-linux-gnu-objcopy
command -v "$OBJCOPY" >/dev/null || die "objcopy not found (binutils)"
# The descriptor printer is an ordinary host build (the one the tests build too); the
# descriptor's format depends on the server version only, not on the architecture.
cargo build --quiet --bin plugin-descriptor
DESCRIBE=$TARGET_DIR/debug/plugin-descriptor

if [ "$VERSION" = all ]; then
    # The versions of this architecture: its facts files (the library was built from them).
    VERSIONS=$(find "facts/$ARCH/standard" -name '*.json' -printf '%f\n' | sed 's/\.json$//' | sort -t. -k1,1n -k2,2n -k3,3n)
    [ -n "$VERSIONS" ] || die "no facts in facts/$ARCH/standard"
else
    VERSIONS=$VERSION
fi
for v in $VERSIONS; do
    text=$("$DESCRIBE" "$v") || die "server version $v is not supported (cargo run --bin plugin-descriptor lists the supported ones)"
    # The version as the descriptor writes it (three parts: 3.00.3.1 -> 3.00.3).
    dv=$(printf '%s\n' "$text" | head -n1 | cut -d, -f3)
    for flavour in standard cxx11; do
        [ -f "facts/$ARCH/$flavour/$dv.json" ] ||
            die "no facts for server $dv on $ARCH ($flavour): facts/$ARCH/$flavour/$dv.json (scripts/add-server-version.sh)"
    done
    if [ "$VERSION" = all ]; then dir=$OUT/httpClient-$dv; else dir=$OUT/httpClient; fi
    mkdir -p "$dir"
    printf '%s\n' "$text" >"$dir/PluginHttpClient.txt.tmp"
    mv "$dir/PluginHttpClient.txt.tmp" "$dir/PluginHttpClient.txt"
    # Debug info stays in the build tree; the shipped copy keeps its symbol table only.
    "$OBJCOPY" --strip-debug "$BUILT" "$dir/libPluginHttpClient.so.tmp"
    mv "$dir/libPluginHttpClient.so.tmp" "$dir/libPluginHttpClient.so"
    echo "$dir"
done
