#!/usr/bin/env bash
# Builds the release packages: one zip per server version and architecture, ready to unzip
# into the server's plugins/ folder.
#
#   scripts/package.sh 2.00.16                 # x86_64 package for server 2.00.16
#   scripts/package.sh all --arch aarch64      # every supported version, AArch64
#   scripts/package.sh all --arch all          # every supported version, both architectures
#   scripts/package.sh 3.00.3 --out DIR        # write into DIR instead of dist/packages/
#
# Each package is dist/packages/httpClient-<plugin version>-<server version>-linux-<arch>.zip
# (plugin version: Cargo.toml's package version) with a .sha256 next to it (sha256sum format:
# `sha256sum -c httpClient-....zip.sha256`). The zip holds exactly
#
#   httpClient/PluginHttpClient.txt     the descriptor for that server version
#   httpClient/libPluginHttpClient.so   the glibc-2.17 library (scripts/dist.sh)
#
# so `unzip httpClient-....zip -d <server>/plugins/` gives <server>/plugins/httpClient/, which
# DolphinDB 2.00.11+ loads by name: loadPlugin("httpClient"), or at startup with
# preloadModules=plugins::httpClient; any version: loadPlugin("<server>/plugins/httpClient/PluginHttpClient.txt").
# (scripts/install.sh does that with a backup of the folder it replaces.)
#
# The zip is written with Python's zipfile (no zip tool needed) and is reproducible: every
# entry carries the time of SOURCE_DATE_EPOCH, else of the HEAD commit. Prints each package.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

die() { echo "package.sh: $*" >&2; exit 2; }

VERSION=
ARCHES=x86_64
OUT=$ROOT/dist/packages
while [ $# -gt 0 ]; do
    case "$1" in
    --arch)
        [ $# -ge 2 ] || die "--arch needs x86_64, aarch64 or all"
        ARCHES=$2; shift ;;
    --arch=*) ARCHES=${1#--arch=} ;;
    --out)
        [ $# -ge 2 ] || die "--out needs a directory"
        OUT=$2; shift ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
        [ -z "$VERSION" ] || die "one server version (or all), not $VERSION and $1"
        VERSION=$1 ;;
    esac
    shift
done
[ -n "$VERSION" ] || die "usage: scripts/package.sh <server version|all> [--arch x86_64|aarch64|all] [--out DIR] (see --help)"
case "$ARCHES" in
x86_64 | aarch64) ;;
amd64) ARCHES=x86_64 ;;
arm64) ARCHES=aarch64 ;;
all) ARCHES="x86_64 aarch64" ;;
*) die "--arch $ARCHES: x86_64, aarch64 or all" ;;
esac
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# The plugin version: [package] version of Cargo.toml.
PLUGIN_VERSION=$(awk '/^\[/{p = ($0 == "[package]")} p && /^version *=/ {gsub(/^version *= *"|".*$/, ""); print; exit}' Cargo.toml)
[ -n "$PLUGIN_VERSION" ] || die "no [package] version in Cargo.toml"
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

for arch in $ARCHES; do
    staging=$TARGET_DIR/package-staging/$arch
    rm -rf "$staging"
    mkdir -p "$staging"
    bash scripts/dist.sh "$VERSION" --arch "$arch" --out "$staging" >&2 ||
        die "scripts/dist.sh $VERSION --arch $arch failed"
    # The folders dist.sh wrote: httpClient/ (one version) or httpClient-<version>/ (all).
    for dir in "$staging"/httpClient*/; do
        dir=${dir%/}
        [ -f "$dir/PluginHttpClient.txt" ] || die "dist.sh wrote no descriptor into $dir"
        server=$(head -n1 "$dir/PluginHttpClient.txt" | cut -d, -f3)
        name=httpClient-$PLUGIN_VERSION-$server-linux-$arch.zip
        python3 - "$dir" "$OUT/$name.tmp" "$EPOCH" <<'EOF'
import os, sys, time, zipfile
src, dest, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
stamp = time.gmtime(max(epoch, 315532800))[:6]  # zip times start in 1980
def entry(name, mode):
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.create_system = 3  # Unix: the mode below is honoured by unzip
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
with zipfile.ZipFile(dest, "w") as z:
    d = entry("httpClient/", 0o40755)
    d.compress_type = zipfile.ZIP_STORED
    d.external_attr |= 0x10  # MS-DOS directory flag
    z.writestr(d, b"")
    for name, mode in (("PluginHttpClient.txt", 0o100644), ("libPluginHttpClient.so", 0o100755)):
        with open(os.path.join(src, name), "rb") as f:
            z.writestr(entry("httpClient/" + name, mode), f.read(), compresslevel=9)
EOF
        mv "$OUT/$name.tmp" "$OUT/$name"
        (cd "$OUT" && sha256sum "$name" >"$name.sha256.tmp" && mv "$name.sha256.tmp" "$name.sha256")
        echo "$OUT/$name"
    done
done
