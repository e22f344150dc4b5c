#!/usr/bin/env bash
# Recall as an MCP tool call over Streamable HTTP (/mcp) against the same recall over REST
# (/v1/memories/search), hybrid, top_k 10, same query mix, on one release server holding N memories
# (hash embedder, durable default). Runs alternate REST and MCP twice; every answer is checked
# (wrk_checked: no non-2xx or socket error; the Lua scripts: no tool error, a result list in every body).
# Usage: scripts/bench_mcp.sh [seconds per run, default 10] [memories, default 10000]
source "$(dirname "$0")/bench/common.sh"  # strict mode, the repository root, wrk, a release build
duration="${1:-10}"
count="${2:-10000}"
port="${SOMA_BENCH_PORT:-9598}"
data_dir="$(mktemp -d)"
token=bench-token-0123456789
SOMA_EMBEDDER=hash SOMA_PORT="$port" SOMA_RATE_LIMIT_MAX=0 SOMA_API_TOKEN="$token" SOMA_DATA_DIR="$data_dir" LOG_LEVEL=error \
  .build/release/soma serve >>"$data_dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data_dir"' EXIT
for _ in $(seq 1 3000); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.02; done
python3 - "$port" "$count" "$token" <<'PY'
import json, sys, urllib.request
port, count, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
topics = ["alpha budget", "meeting notes", "project falcon", "release plan", "customer call", "agent memory"]
for start in range(0, count, 500):
    items = [{"coord": f"{i % 100},{i // 100}", "payload": {"text": f"{topics[i % len(topics)]} topic {i % 97} item {i}"}} for i in range(start, min(start + 500, count))]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/memories/bulk", data=json.dumps({"items": items}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    urllib.request.urlopen(request).read()
PY
echo "loaded $count memories"
# A clean restart, as scripts/bench.sh does: the merge finishes and the graphs are saved, so
# neither run meets vectors still waiting in the exact buffer.
kill -TERM $server; wait $server || true
SOMA_EMBEDDER=hash SOMA_PORT="$port" SOMA_RATE_LIMIT_MAX=0 SOMA_API_TOKEN="$token" SOMA_DATA_DIR="$data_dir" LOG_LEVEL=error \
  .build/release/soma serve >>"$data_dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 3000); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.02; done
run() {  # name, path, script
  local output="$data_dir/$1.txt"
  wrk_checked "$output" -t1 -c16 -d"${duration}s" --latency -H "Authorization: Bearer $token" -s "$3" "http://127.0.0.1:$port$2"
  local errors
  errors=$(awk '/tool errors:/ {print $3}' "$output")
  [ "$errors" = 0 ] || { echo "$1: $errors answers without results; the run does not count" >&2; cat "$output" >&2; exit 1; }
  echo "$1 $(awk '/Requests\/sec/ {print $2}' "$output") $(awk '$1 == "50%" {print $2}' "$output") $(awk '$1 == "99%" {print $2}' "$output")"
}
results=()
# Alternating, each first once, so neither gains from going second.
results+=("$(run rest-1 /v1/memories/search scripts/bench/rest_recall_hybrid.lua)")
results+=("$(run mcp-1 /mcp scripts/bench/mcp_recall.lua)")
results+=("$(run mcp-2 /mcp scripts/bench/mcp_recall.lua)")
results+=("$(run rest-2 /v1/memories/search scripts/bench/rest_recall_hybrid.lua)")
printf '%-8s %12s %10s %10s\n' run "requests/s" p50 p99
for line in "${results[@]}"; do printf '%-8s %12s %10s %10s\n' $line; done
printf '%s\n' "${results[@]}" | awk '/^rest/ {r += $2} /^mcp/ {m += $2} END {printf "MCP over REST, both rounds: %.3f (target >= 0.8)\n", m / r}'
