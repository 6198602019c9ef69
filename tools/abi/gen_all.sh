#!/usr/bin/env bash
# Regenerate the facts of every supported server version, for every target whose tools are
# installed (x86_64; aarch64 with g++-aarch64-linux-gnu and qemu-user) and both C++ string
# ABIs, from a checkout or mirror of the public dolphindb/DolphinDBPlugin repository (path
# given as $1). Sub-branches (release130.20.7, release200.8.11) share their minor version's
# ABI and are not listed.
set -euo pipefail
repo=${1:?usage: tools/abi/gen_all.sh PATH/TO/DolphinDBPlugin [gen_facts.py options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
for b in release130.19 release130.20 release130.21 release130.22 release130.23 \
         release200.8 release200.9 release200.10 release200.11 release200.12 release200.13 \
         release200.14 release200.15 release200.16 \
         release300.0 release300.1 release300.2 release300.3; do
  python3 "$here/gen_facts.py" --repo "$repo" --branch "$b" "$@"
done
