#!/usr/bin/env bash
# Builds the distributable plugin: a release libPluginHttpClient.so linked against glibc 2.17
# (CentOS 7 and newer) with zig as the C compiler and linker (cargo-zigbuild), and writes the
# folder loadPlugin / installPlugin expect.
#
#   scripts/dist.sh                  # dist/httpClient/{PluginHttpClient.txt,libPluginHttpClient.so}, 2.00.16
#   scripts/dist.sh 3.00.3           # the same, descriptor for server 3.00.3
#   scripts/dist.sh all              # dist/httpClient-<version>/... for every supported version
#   scripts/dist.sh all --out DIR    # write into DIR instead of dist/
#   scripts/dist.sh --install-tools  # only install ziglang (PyPI), cargo-zigbuild and cbindgen (crates.io)
#   scripts/dist.sh --header         # only regenerate include/httpclient.h (cbindgen) from src/abi/c_api.rs
#
# Honors CARGO_TARGET_DIR (default: target/). The library is built once; every folder gets a
# copy of the same file (one binary serves every supported server version). Needs gcc (for
# the path of the system's libgcc_s.so.1) and objcopy.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TRIPLE=x86_64-unknown-linux-gnu
GLIBC=2.17

install_tools() {
    python3 -c "import ziglang" 2>/dev/null || python3 -m pip install --quiet "ziglang>=0.13"
    command -v cargo-zigbuild >/dev/null || cargo install --quiet --locked cargo-zigbuild
    command -v cbindgen >/dev/null || cargo install --quiet --locked cbindgen
}

header() {
    cbindgen --quiet --config include/cbindgen.toml --lang c --output include/httpclient.h src/abi/c_api.rs
}

VERSION=2.00.16
OUT=$ROOT/dist
while [ $# -gt 0 ]; do
    case "$1" in
    --install-tools) install_tools; exit 0 ;;
    --header) header; exit 0 ;;
    --out) OUT=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "dist.sh: unknown option $1" >&2; exit 2 ;;
    *) VERSION=$1 ;;
    esac
    shift
done

install_tools
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# Unwinding must go through the system's libgcc_s, as in every C++ process: the ABI layer
# throws the server's C++ exceptions through Rust frames, and Rust's personality routine must
# read the unwinder context with the same unwinder that raised it (libgcc_s). cargo-zigbuild
# replaces -lgcc_s with zig's static libunwind (a second, private unwinder: the server
# segfaults on the first exception), so the library is linked against libgcc_s.so.1 itself,
# which makes zig's libunwind unused. Its symbol versions are old (GCC_3.0 ... GCC_4.2.0).
GCC_S=$(gcc -print-file-name=libgcc_s.so.1)
[ -f "$GCC_S" ] || { echo "dist.sh: libgcc_s.so.1 not found (gcc -print-file-name)" >&2; exit 2; }
start=$(date +%s)
cargo-zigbuild rustc --release --target "$TRIPLE.$GLIBC" --lib -- -C "link-arg=$GCC_S"
echo "dist.sh: zigbuild took $(($(date +%s) - start)) s" >&2
BUILT=$TARGET_DIR/$TRIPLE/release
# The descriptor printer is an ordinary host build (the one the tests build too).
cargo build --quiet --bin plugin-descriptor
DESCRIBE=$TARGET_DIR/debug/plugin-descriptor

if [ "$VERSION" = all ]; then
    VERSIONS=$("$DESCRIBE" | sed 's/^[^:]*: //; s/,//g')
else
    VERSIONS=$VERSION
fi
for v in $VERSIONS; do
    if [ "$VERSION" = all ]; then dir=$OUT/httpClient-$v; else dir=$OUT/httpClient; fi
    mkdir -p "$dir"
    "$DESCRIBE" "$v" >"$dir/PluginHttpClient.txt.tmp" || { rm -f "$dir/PluginHttpClient.txt.tmp"; exit 2; }
    mv "$dir/PluginHttpClient.txt.tmp" "$dir/PluginHttpClient.txt"
    # Debug info stays in the build tree; the shipped copy keeps its symbol table only.
    objcopy --strip-debug "$BUILT/libPluginHttpClient.so" "$dir/libPluginHttpClient.so"
    echo "$dir"
done
