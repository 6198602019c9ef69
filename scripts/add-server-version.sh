#!/usr/bin/env bash
# Adds support for a DolphinDB server version: generates its ABI facts from the server's
# public C++ headers, rebuilds the plugin and packages it for that version.
#
#   scripts/add-server-version.sh <include dir> --version X.YY.Z [--descriptor long|short]
#                                 [--arch x86_64|aarch64]... [--out DIR] [--no-package]
#
# Where the headers come from: DolphinDB publishes them in its plugin repository,
# https://github.com/dolphindb/DolphinDBPlugin — the include/ folder of the branch
# release<major><minor>.<patch>, e.g. release200.16 for server 2.00.16, release300.3 for
# 3.00.3, release130.23 for 1.30.23 (`git ls-remote --heads
# https://github.com/dolphindb/DolphinDBPlugin.git 'release*'` lists them). For example:
#
#   git clone --depth 1 --branch release300.4 https://github.com/dolphindb/DolphinDBPlugin.git /tmp/ddbplugin
#   bash scripts/add-server-version.sh /tmp/ddbplugin/include --version 3.00.4
#
# The headers are only read: nothing of them is copied into this repository (do not commit
# them). What is written are the facts the plugin needs (sizes, offsets, vtable slots, mangled
# names): facts/<arch>/<flavour>/<version>.json for every target whose tools are installed
# (x86_64: g++; aarch64: g++-aarch64-linux-gnu and qemu-user) and both C++ string ABIs
# (standard, and cxx11 for the "Linux_ABI" server builds). Each file is reported as new,
# unchanged or CHANGED.
#
# Then, unless --no-package or --out is given, it rebuilds the plugin (which compiles in every
# facts file) and writes the packages of that version with scripts/package.sh:
# dist/packages/httpClient-<plugin>-<version>-linux-<arch>.zip (+ .sha256), and loads each into
# the test host of that version (host/, built from the same facts) as a smoke test. Commit the
# new facts/*/*/<version>.json files to keep the version.
#
# Options:
#   --version X.YY.Z         the server version (three parts, as version() starts: 3.00.4)
#   --descriptor long|short  the format of the official PluginHttpClient.txt of that version:
#                            long lines (isSequential and syntax, 2.00.15+, 3.00.3+) or short.
#                            Default: read from <include dir>/../httpClient/PluginHttpClient.txt
#                            when the headers sit in a DolphinDBPlugin checkout, else long for
#                            2.00.15+ / 3.00.3+ / later lines and short before.
#   --arch A                 only this target (repeatable; default every target with tools)
#   --out DIR                write the facts under DIR/<arch>/<flavour>/ instead of facts/
#                            (for checking: nothing is built or packaged then)
#   --no-package             only write the facts into facts/
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

die() { echo "add-server-version.sh: $*" >&2; exit 2; }
note() { echo "add-server-version.sh: $*" >&2; }

INCLUDE=
VERSION=
DESCRIPTOR=
ARCHES=()
OUT=
PACKAGE=1
while [ $# -gt 0 ]; do
    case "$1" in
    --version)
        [ $# -ge 2 ] || die "--version needs X.YY.Z"
        VERSION=$2; shift ;;
    --version=*) VERSION=${1#--version=} ;;
    --descriptor)
        [ $# -ge 2 ] || die "--descriptor needs long or short"
        DESCRIPTOR=$2; shift ;;
    --descriptor=*) DESCRIPTOR=${1#--descriptor=} ;;
    --arch)
        [ $# -ge 2 ] || die "--arch needs x86_64 or aarch64"
        ARCHES+=("$2"); shift ;;
    --arch=*) ARCHES+=("${1#--arch=}") ;;
    --out)
        [ $# -ge 2 ] || die "--out needs a directory"
        OUT=$2; shift ;;
    --out=*) OUT=${1#--out=} ;;
    --no-package) PACKAGE=0 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
        [ -z "$INCLUDE" ] || die "one include folder, not $INCLUDE and $1"
        INCLUDE=$1 ;;
    esac
    shift
done
[ -n "$INCLUDE" ] && [ -n "$VERSION" ] ||
    die "usage: scripts/add-server-version.sh <include dir> --version X.YY.Z [--descriptor long|short] [--out DIR] (see --help)"
[ -d "$INCLUDE" ] || die "$INCLUDE is not a folder"
INCLUDE=$(cd "$INCLUDE" && pwd)
[ -f "$INCLUDE/CoreConcept.h" ] ||
    die "$INCLUDE has no CoreConcept.h: give the include/ folder of the DolphinDBPlugin branch release<major><minor>.<patch> (see --help)"
[[ $VERSION =~ ^[0-9]\.[0-9]{2}\.[0-9]{1,3}$ ]] ||
    die "--version $VERSION: three parts as version() starts, e.g. 2.00.16 or 3.00.4 (servers are matched on these)"
IFS=. read -r MAJOR MINOR PATCH <<<"$VERSION"
MAJOR=$((10#$MAJOR)) MINOR=$((10#$MINOR)) PATCH=$((10#$PATCH))

# --- the descriptor format ------------------------------------------------------------------
official=$INCLUDE/../httpClient/PluginHttpClient.txt
if [ -n "$DESCRIPTOR" ]; then
    case "$DESCRIPTOR" in long | short) ;; *) die "--descriptor $DESCRIPTOR: long or short" ;; esac
    why="as given"
elif [ -f "$official" ]; then
    # long lines have 7+ fields: symbol,name,type,min,max,isAggregation,isSequential[,syntax]
    fields=$(sed -n 2p "$official" | awk -F, '{print NF}')
    if [ "${fields:-0}" -ge 7 ]; then DESCRIPTOR=long; else DESCRIPTOR=short; fi
    why="from the official $(cd "$(dirname "$official")" && pwd)/PluginHttpClient.txt"
else
    if { [ "$MAJOR" -eq 2 ] && [ "$MINOR" -eq 0 ] && [ "$PATCH" -ge 15 ]; } ||
        { [ "$MAJOR" -eq 3 ] && [ "$MINOR" -eq 0 ] && [ "$PATCH" -ge 3 ]; } ||
        [ "$MAJOR" -gt 3 ] || { [ "$MAJOR" -eq 3 ] && [ "$MINOR" -gt 0 ]; }; then
        DESCRIPTOR=long
    else
        DESCRIPTOR=short
    fi
    why="by version (long from 2.00.15 and 3.00.3 on; give --descriptor if the official PluginHttpClient.txt of $VERSION says otherwise)"
fi
note "server $VERSION, descriptor format $DESCRIPTOR ($why)"

# --- the targets ----------------------------------------------------------------------------
tools_for() { case "$1" in x86_64) echo g++ ;; aarch64) echo "aarch64-linux-gnu-g++ qemu-aarch64" ;; *) return 1 ;; esac; }
if [ ${#ARCHES[@]} -eq 0 ]; then
    for a in x86_64 aarch64; do
        missing=
        for t in $(tools_for "$a"); do command -v "$t" >/dev/null || missing="$missing $t"; done
        if [ -z "$missing" ]; then
            ARCHES+=("$a")
        else
            note "WARNING: no facts for $a: missing$missing (Debian/Ubuntu: apt-get install $([ "$a" = x86_64 ] && echo g++ || echo g++-aarch64-linux-gnu qemu-user)); the $a plugin will not support $VERSION"
        fi
    done
    [ ${#ARCHES[@]} -gt 0 ] || die "no target has its tools installed"
else
    for a in "${ARCHES[@]}"; do
        tools_for "$a" >/dev/null || die "--arch $a: x86_64 or aarch64"
        for t in $(tools_for "$a"); do command -v "$t" >/dev/null || die "--arch $a needs $t"; done
    done
fi

# --- the facts ------------------------------------------------------------------------------
FACTS=$ROOT/facts
if [ -n "$OUT" ]; then
    mkdir -p "$OUT"
    OUT=$(cd "$OUT" && pwd)
    if [ "$OUT" != "$FACTS" ]; then FACTS=$OUT; PACKAGE=0; fi
fi
GEN=$(mktemp -d "${TMPDIR:-/tmp}/add-server-version.XXXXXX")
trap 'rm -rf "$GEN"' EXIT
arch_args=()
for a in "${ARCHES[@]}"; do arch_args+=(--arch "$a"); done
start=$(date +%s)
python3 tools/abi/gen_facts.py --include "$INCLUDE" --version "$VERSION" --descriptor "$DESCRIPTOR" \
    "${arch_args[@]}" --out "$GEN" >&2 || die "generating the facts failed (see above)"
note "facts generated in $(($(date +%s) - start)) s"
written=()
for a in "${ARCHES[@]}"; do
    for flavour in standard cxx11; do
        rel=$a/$flavour/$VERSION.json
        [ -f "$GEN/$rel" ] || die "gen_facts.py wrote no $rel"
        if [ ! -f "$FACTS/$rel" ]; then state=new
        elif cmp -s "$GEN/$rel" "$FACTS/$rel"; then state=unchanged
        else state=CHANGED; fi
        mkdir -p "$FACTS/$a/$flavour"
        [ "$state" = unchanged ] || cp "$GEN/$rel" "$FACTS/$rel"
        echo "$FACTS/$rel: $state"
        written+=("$FACTS/$rel")
    done
done

if [ "$PACKAGE" = 0 ]; then
    note "facts only (--out/--no-package): the plugin was not rebuilt"
    exit 0
fi

# --- rebuild, package, smoke test -----------------------------------------------------------
packages=()
for a in "${ARCHES[@]}"; do
    while read -r p; do packages+=("$p"); done < <(bash scripts/package.sh "$VERSION" --arch "$a")
done
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
for p in "${packages[@]}"; do
    a=${p%.zip}; a=${a##*-linux-}
    case "$a" in
    x86_64) [ "$(uname -m)" = x86_64 ] || continue; run=() ;;
    aarch64)
        if [ "$(uname -m)" = aarch64 ]; then run=()
        elif command -v qemu-aarch64 >/dev/null; then run=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
        else continue; fi ;;
    esac
    check=$TARGET_DIR/add-server-version-check/$a
    rm -rf "$check" && mkdir -p "$check"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$p" "$check"
    host=$(python3 host/build_host.py "$VERSION" --arch "$a" --out "$TARGET_DIR/hosts" | tail -n1) ||
        die "building the test host for $VERSION ($a) failed"
    result=$(echo 'version()' | ${run[@]+"${run[@]}"} "$host" "$check/httpClient/PluginHttpClient.txt" 2>&1) || true
    if ! grep -q '^LOADED ' <<<"$result" || ! grep -q "^OK .*$VERSION" <<<"$result"; then
        die "the $a package of $VERSION did not load in the test host:
$result"
    fi
    note "$a package loads in the $VERSION test host: $(grep '^OK' <<<"$result" | head -c 200)"
done

echo
echo "Server $VERSION added. Packages:"
printf '    %s\n' "${packages[@]}"
echo "Keep the version: git add ${written[*]#"$ROOT/"}"
echo "(the headers in $INCLUDE are not part of this repository: do not commit them)"
