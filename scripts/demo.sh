#!/usr/bin/env bash
# Builds the plugin and runs the tutorial's WeCom workflow end to end, with no DolphinDB:
# the plugin is loaded by the test host for DolphinDB 2.00.16 (through the descriptor,
# as loadPlugin does) and talks to a local stand-in for the WeCom API.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-2.00.16}
cargo build --release --lib --quiet
host=$(python3 host/build_host.py "$version" --out target/release/hosts | tail -1)
dir=target/demo/httpClient
mkdir -p "$dir"
cargo run --release --quiet --bin plugin-descriptor -- "$version" > "$dir/PluginHttpClient.txt"
cp target/release/libPluginHttpClient.so "$dir/"

port_file=$(mktemp)
python3 scripts/demo_peer.py > "$port_file" &
peer=$!
trap 'kill $peer 2>/dev/null; rm -f "$port_file"' EXIT
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
base="http://127.0.0.1:$(cat "$port_file")"

echo "== loadPlugin(\"$dir/PluginHttpClient.txt\") in a DolphinDB $version test host, WeCom stand-in at $base"
"$host" "$dir/PluginHttpClient.txt" <<SCRIPT
httpClient::version()
httpClient::httpGet("$base/cgi-bin/gettoken", {"corpid": "demo-corp", "corpsecret": "demo-secret"}, 1000)
SCRIPT
# the script reads access_token out of ret.text, as the tutorial does with parseExpr
token=$("$host" "$dir/PluginHttpClient.txt" 2>/dev/null <<SCRIPT | python3 -c '
import json, sys
line = next(l for l in sys.stdin if l.startswith("OK "))
print(json.loads(json.loads(line[3:])["text"][1])["access_token"])'
httpClient::httpGet("$base/cgi-bin/gettoken", {"corpid": "demo-corp", "corpsecret": "demo-secret"}, 1000)
SCRIPT
)
echo "== message/send with the token (the tutorial's JSON)"
"$host" "$dir/PluginHttpClient.txt" <<SCRIPT
httpClient::httpPost("$base/cgi-bin/message/send?access_token=$token", "{\"touser\":\"@all\",\"agentid\":1000002,\"msgtype\":\"text\",\"text\":{\"content\":\"DolphinDB 告警: 行情延迟 3 秒\"}}", 1000, {"Content-Type": "application/json"})
httpClient::httpPost("$base/cgi-bin/message/send?access_token=stale", "{\"text\":{\"content\":\"x\"}}", 1000)
SCRIPT
echo "== the same with the built-in wecomSend: token fetched once, cached, reused"
"$host" "$dir/PluginHttpClient.txt" <<SCRIPT
httpClient::wecomSend("demo-corp", "demo-secret", "message/send", "{\"touser\":\"@all\",\"agentid\":1000002,\"msgtype\":\"text\",\"text\":{\"content\":\"wecomSend 1\"}}", {"baseUrl": "$base"})
httpClient::wecomSend("demo-corp", "demo-secret", "message/send", "{\"touser\":\"@all\",\"agentid\":1000002,\"msgtype\":\"text\",\"text\":{\"content\":\"wecomSend 2\"}}", {"baseUrl": "$base"})
SCRIPT
echo "== alerts from a stream handler: queued (each call returns at once), paced, delivered by the plugin"
"$host" "$dir/PluginHttpClient.txt" <<SCRIPT
httpClient::robotSend("wecom", "demo-robot", {"msgtype": "markdown", "markdown": {"content": "**600519** 行情延迟 3.5 秒"}}, , {"baseUrl": "$base", "async": true})
httpClient::robotSend("wecom", "demo-robot", "600000 成交价超过 100", , {"baseUrl": "$base", "async": true})
httpClient::flush(5000)
httpClient::deliveries()
SCRIPT
