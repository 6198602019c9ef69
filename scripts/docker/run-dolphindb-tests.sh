#!/usr/bin/env bash
# Loads the built plugin into real DolphinDB servers (the public dolphindb/dolphindb images)
# and runs scripts/docker/NN_*.dos there: version(), httpGet/httpPost/httpPut/httpDelete
# against an HTTP peer container (scripts/docker/peer.py), argument and transport errors.
# Needs Docker and `pip install dolphindb`; cannot run on the project's build machine (no
# Docker engine, no images) — run it on a workstation or in CI (.github/workflows/dolphindb.yml).
#
#   bash scripts/dist.sh all                                      # dist/httpClient-<version>/...
#   bash scripts/docker/run-dolphindb-tests.sh                    # default images
#   bash scripts/docker/run-dolphindb-tests.sh dolphindb/dolphindb:v3.00.2   # chosen images
#
# Each server loads dist/httpClient-<its version>/PluginHttpClient.txt (00_load_plugin.dos
# picks it from version()), so the image's version must be a supported one.
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGES=("$@")
[ ${#IMAGES[@]} -gt 0 ] || IMAGES=(dolphindb/dolphindb:v2.00.10 dolphindb/dolphindb:v3.00.2)
[ -d dist ] && ls dist | grep -q '^httpClient-' || { echo "run: bash scripts/dist.sh all" >&2; exit 2; }
python3 -c "import dolphindb" 2>/dev/null || python3 -m pip install --quiet dolphindb

NET=ddb-httpclient-test
PEER=ddb-httpclient-peer
cleanup() { docker rm -f "$PEER" ddb-httpclient-server >/dev/null 2>&1 || true; docker network rm "$NET" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
docker network create "$NET" >/dev/null
docker run -d --name "$PEER" --network "$NET" -v "$PWD/scripts/docker:/peer:ro" python:3-alpine \
    python3 /peer/peer.py 8080 >/dev/null

status=0
for image in "${IMAGES[@]}"; do
    echo "== $image"
    docker rm -f ddb-httpclient-server >/dev/null 2>&1 || true
    docker run -d --name ddb-httpclient-server --network "$NET" -p 127.0.0.1::8848 "$image" >/dev/null
    docker cp dist/. ddb-httpclient-server:/tmp/dist
    port=$(docker port ddb-httpclient-server 8848/tcp | head -1 | sed 's/.*://')
    python3 scripts/docker/run_dos.py 127.0.0.1 "$port" "http://$PEER:8080" || {
        status=1
        docker logs --tail 50 ddb-httpclient-server || true
    }
done
exit $status
