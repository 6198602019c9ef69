#!/usr/bin/env bash
# Installs this httpClient plugin into a DolphinDB server folder, keeping a backup of the
# plugin folder it replaces (the official plugin or a previous install).
#
#   scripts/install.sh <server dir> [server version] [--arch x86_64|aarch64] [--package ZIP]
#   scripts/install.sh --rollback <server dir>
#
# <server dir> is the folder holding the `dolphindb` executable and `plugins/` (e.g.
# /opt/DolphinDB/server). The plugin goes to <server dir>/plugins/httpClient/
# (PluginHttpClient.txt + libPluginHttpClient.so); an existing plugins/httpClient/ is first
# moved to plugins/httpClient.bak-<timestamp>/.
#
# Server version: give it (e.g. 2.00.16; the first three parts count) or let the script read
# it from the server's own files: the version string in <server dir>/dolphindb (as
# version() prints it: `2.00.16 2025.03.06 ...`) and the first line of the plugin
# descriptors under <server dir>/plugins/*/. If those disagree, or none is found, it refuses
# and asks for the version. A version you name is used as given (with a warning if the
# server's files say otherwise).
#
# Architecture: --arch, default the machine's (uname -m); refused if <server dir>/dolphindb
# is an executable of another architecture.
#
# The plugin: built with scripts/dist.sh (Rust toolchain; tools installed if missing), or
# taken from a release package with --package httpClient-<plugin>-<server>-linux-<arch>.zip
# (checked against its .sha256 when that file lies next to it).
#
# --rollback removes the installed plugin folder (only if it is this plugin) and puts the
# newest plugins/httpClient.bak-*/ back in its place.
#
# Restart the server afterwards if it had loaded the old plugin (a loaded plugin stays
# loaded until the server exits).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "install.sh: $*" >&2; exit 2; }
note() { echo "install.sh: $*" >&2; }

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

# arch <name>: x86_64 / aarch64 for the names uname -m and users give.
norm_arch() {
    case "$1" in
    x86_64 | amd64 | x64) echo x86_64 ;;
    aarch64 | arm64 | armv8*) echo aarch64 ;;
    *) return 1 ;;
    esac
}

# elf_arch <file>: x86_64 / aarch64 / other for an ELF file; nothing if not ELF.
elf_arch() {
    python3 - "$1" <<'EOF'
import struct, sys
try:
    with open(sys.argv[1], "rb") as f:
        head = f.read(20)
except OSError:
    sys.exit(0)
if len(head) == 20 and head[:4] == b"\x7fELF":
    order = "<" if head[5] == 1 else ">"
    machine = struct.unpack(order + "H", head[18:20])[0]
    print({62: "x86_64", 183: "aarch64"}.get(machine, "machine-%d" % machine))
EOF
}

# canon <version>: the first three parts as DolphinDB writes them (2.0.16.1 -> 2.00.16);
# fails for anything else.
canon() {
    local a b c
    [[ $1 =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)(\.[0-9]+)*$ ]] || return 1
    a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]} c=${BASH_REMATCH[3]}
    printf '%d.%02d.%d\n' "$((10#$a))" "$((10#$b))" "$((10#$c))"
}

# Prints "<version>\t<source>" for every version the server's files state.
detect_versions() {
    local server=$1
    local bin=$server/dolphindb v f first
    if [ -f "$bin" ]; then
        # Util::VER: "2.00.16 2025.03.06 LINUX x86_64", "3.00.3.1 2025.06.10 ...".
        LC_ALL=C grep -aoE '(^|[^0-9.])[0-9]{1,2}\.[0-9]{2}\.[0-9]{1,3}(\.[0-9]{1,3})* 20[0-9]{2}\.[0-9]{2}\.[0-9]{2}' "$bin" 2>/dev/null |
            sed -E 's/^[^0-9]//; s/ .*//' | sort -u | while read -r v; do
            v=$(canon "$v") && printf '%s\t%s\n' "$v" "$bin (version string)"
        done || true
    fi
    for f in "$server"/plugins/*/Plugin*.txt; do
        [ -f "$f" ] || continue
        case "$f" in */httpClient.bak-*/* | */.httpClient.*) continue ;; esac
        first=$(head -n1 "$f" | tr -d '\r')
        v=$(printf '%s' "$first" | cut -d, -f3 | tr -d ' ')
        v=$(canon "$v") && printf '%s\t%s\n' "$v" "$f (first line: $first)" || true
    done
}

# is_ours <dir>: the folder holds this plugin (its descriptor names ddbHttpClient_* symbols).
is_ours() { [ -f "$1/PluginHttpClient.txt" ] && grep -q '^ddbHttpClient_' "$1/PluginHttpClient.txt"; }

rollback() {
    local server=$1 plugins current backup
    plugins=$server/plugins
    current=$plugins/httpClient
    backup=$(find "$plugins" -mindepth 1 -maxdepth 1 -type d -name 'httpClient.bak-*' 2>/dev/null | sort -V | tail -n1)
    if [ -e "$current" ] && ! is_ours "$current"; then
        die "$current is not this plugin (no ddbHttpClient_ functions in its PluginHttpClient.txt); not touching it"
    fi
    if [ -z "$backup" ]; then
        [ -e "$current" ] || die "nothing to roll back: no $current and no $plugins/httpClient.bak-*"
        rm -rf "$current"
        echo "Removed $current (there was no httpClient plugin before the install: no backup)."
        return
    fi
    rm -rf "$current"
    mv "$backup" "$current"
    echo "Restored $current from $backup."
    echo "Restart the server if it had loaded the plugin."
}

SERVER=
VERSION=
ARCH=
PACKAGE=
ROLLBACK=0
while [ $# -gt 0 ]; do
    case "$1" in
    --rollback) ROLLBACK=1 ;;
    --arch)
        [ $# -ge 2 ] || die "--arch needs x86_64 or aarch64"
        ARCH=$2; shift ;;
    --arch=*) ARCH=${1#--arch=} ;;
    --package)
        [ $# -ge 2 ] || die "--package needs a .zip"
        PACKAGE=$2; shift ;;
    --package=*) PACKAGE=${1#--package=} ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
        if [ -z "$SERVER" ]; then SERVER=$1
        elif [ -z "$VERSION" ]; then VERSION=$1
        else die "unexpected argument $1 (see --help)"; fi ;;
    esac
    shift
done
[ -n "$SERVER" ] || { usage >&2; exit 2; }
[ -d "$SERVER" ] || die "$SERVER is not a folder (give the DolphinDB server folder, the one holding dolphindb and plugins/)"
SERVER=$(cd "$SERVER" && pwd)

if [ "$ROLLBACK" = 1 ]; then
    [ -z "$VERSION$ARCH$PACKAGE" ] || die "--rollback takes only the server folder"
    rollback "$SERVER"
    exit 0
fi

[ -f "$SERVER/dolphindb" ] || [ -d "$SERVER/plugins" ] ||
    die "$SERVER has neither dolphindb nor plugins/: is it the DolphinDB server folder?"

# --- the server version ---------------------------------------------------------------------
detected=$(detect_versions "$SERVER")
distinct=$(printf '%s\n' "$detected" | cut -f1 | sed '/^$/d' | sort -u)
if [ -n "$VERSION" ]; then
    named=$VERSION
    VERSION=$(canon "$VERSION") || die "server version $named: expected digits like 2.00.16 or 3.00.3.1"
    if [ -n "$distinct" ] && [ "$distinct" != "$VERSION" ]; then
        note "warning: you named $VERSION, but the server's files say:"
        printf '%s\n' "$detected" | sed 's/^/    /; s/\t/  from  /' >&2
        note "installing for $VERSION as named; loadPlugin refuses a descriptor whose version differs from the server's"
    fi
else
    if [ -z "$distinct" ]; then
        die "could not read the server version from $SERVER (no version string in dolphindb, no plugin descriptors in plugins/):
    name it: scripts/install.sh $SERVER <version>   (run version() in the server: the first part, e.g. 2.00.16)"
    fi
    if [ "$(printf '%s\n' "$distinct" | wc -l)" -ne 1 ]; then
        {
            echo "install.sh: the server's files disagree about its version:"
            printf '%s\n' "$detected" | sed 's/^/    /; s/\t/  from  /'
            echo "    name it: scripts/install.sh $SERVER <version>   (run version() in the server: the first part, e.g. 2.00.16)"
        } >&2
        exit 2
    fi
    VERSION=$distinct
    note "server version $VERSION, read from:"
    printf '%s\n' "$detected" | cut -f2 | sed 's/^/    /' >&2
fi

# --- the architecture -----------------------------------------------------------------------
server_arch=
[ -f "$SERVER/dolphindb" ] && server_arch=$(elf_arch "$SERVER/dolphindb")
if [ -n "$ARCH" ]; then
    given=$ARCH
    ARCH=$(norm_arch "$ARCH") || die "--arch $given: x86_64 or aarch64"
else
    ARCH=$(norm_arch "$(uname -m)") || die "this machine is $(uname -m): give --arch x86_64 or --arch aarch64"
fi
if [ -n "$server_arch" ] && [ "$server_arch" != "$ARCH" ]; then
    die "$SERVER/dolphindb is built for $server_arch, not $ARCH: give --arch $server_arch (or the right server folder)"
fi

# --- the plugin files -----------------------------------------------------------------------
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/httpclient-install.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
if [ -n "$PACKAGE" ]; then
    [ -f "$PACKAGE" ] || die "--package $PACKAGE: no such file"
    if [ -f "$PACKAGE.sha256" ]; then
        want=$(cut -d' ' -f1 "$PACKAGE.sha256")
        have=$(sha256sum "$PACKAGE" | cut -d' ' -f1)
        [ "$want" = "$have" ] || die "$PACKAGE does not match $PACKAGE.sha256 (damaged download?)"
        note "checksum verified ($PACKAGE.sha256)"
    else
        note "no $PACKAGE.sha256 next to the package: checksum not verified"
    fi
    python3 - "$PACKAGE" "$STAGE" <<'EOF' || die "$PACKAGE is not a httpClient package"
import sys, zipfile
want = {"httpClient/PluginHttpClient.txt", "httpClient/libPluginHttpClient.so"}
with zipfile.ZipFile(sys.argv[1]) as z:
    names = {n for n in z.namelist() if not n.endswith("/")}
    if names != want:
        sys.exit("unexpected contents: %s" % sorted(names))
    for n in sorted(want):
        z.extract(n, sys.argv[2])
EOF
    NEW=$STAGE/httpClient
    chmod 0755 "$NEW/libPluginHttpClient.so"
else
    note "building the plugin for server $VERSION ($ARCH) with scripts/dist.sh ..."
    bash "$HERE/scripts/dist.sh" "$VERSION" --arch "$ARCH" --out "$STAGE" >&2 ||
        die "scripts/dist.sh $VERSION --arch $ARCH failed (see above)"
    NEW=$STAGE/httpClient
fi
desc_version=$(head -n1 "$NEW/PluginHttpClient.txt" | cut -d, -f3)
[ "$(canon "$desc_version")" = "$VERSION" ] ||
    die "the plugin's descriptor is for server $desc_version, not $VERSION (use the package for $VERSION)"
lib_arch=$(elf_arch "$NEW/libPluginHttpClient.so")
[ "$lib_arch" = "$ARCH" ] || die "the plugin library is a ${lib_arch:-non-ELF} file, not $ARCH"

# --- swap the folder in ---------------------------------------------------------------------
PLUGINS=$SERVER/plugins
TARGET=$PLUGINS/httpClient
mkdir -p "$PLUGINS"
incoming=$PLUGINS/.httpClient.new-$$
rm -rf "$incoming"
mkdir "$incoming"
cp "$NEW/PluginHttpClient.txt" "$NEW/libPluginHttpClient.so" "$incoming/"
backup=
if [ -e "$TARGET" ]; then
    stamp=$(date +%Y%m%d-%H%M%S)
    backup=$PLUGINS/httpClient.bak-$stamp
    n=1
    while [ -e "$backup" ]; do n=$((n + 1)); backup=$PLUGINS/httpClient.bak-$stamp-$n; done
    if is_ours "$TARGET"; then what="the previous install of this plugin"; else what="the existing plugin (official or other)"; fi
    mv "$TARGET" "$backup"
fi
if ! mv "$incoming" "$TARGET"; then
    [ -n "$backup" ] && mv "$backup" "$TARGET"
    rm -rf "$incoming"
    die "could not move the plugin into $TARGET (nothing changed)"
fi

echo "Installed httpClient for DolphinDB $VERSION ($ARCH) into $TARGET"
[ -n "$backup" ] && echo "Backup of $what: $backup"
cat <<EOF

Load it (restart the server first if it had loaded an httpClient plugin):
    loadPlugin("httpClient")                 // DolphinDB 2.00.11 and later: by name
    loadPlugin("$TARGET/PluginHttpClient.txt")   // any version
    httpClient::version()
or at every start, in dolphindb.cfg (cluster.cfg for a cluster):
    preloadModules=plugins::httpClient

Roll back:
    bash $HERE/scripts/install.sh --rollback $SERVER
EOF
if [ -n "$backup" ]; then
    echo "or by hand: rm -rf '$TARGET' && mv '$backup' '$TARGET'"
else
    echo "(there was no httpClient plugin before: rolling back removes $TARGET)"
fi
