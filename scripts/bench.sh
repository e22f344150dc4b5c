#!/usr/bin/env bash
# Throughput and latency of store, get-by-coordinate and recall (top_k 10) against a release build
# holding 10,000 memories, each as a ratio to the same server's /healthz (the HTTP stack's ceiling).
# Usage: scripts/bench.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
duration="${1:-10}"
port="${SOMA_BENCH_PORT:-9599}"
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }

swift build -c release --product soma >/dev/null
data_dir="$(mktemp -d)"
SOMA_PORT="$port" SOMA_RATE_LIMIT_MAX=0 SOMA_DATA_DIR="$data_dir" LOG_LEVEL=error .build/release/soma serve >"$data_dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data_dir"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

python3 - "$port" <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
topics = ["alpha budget", "meeting notes", "project falcon", "release plan", "customer call", "agent memory"]
for start in range(0, 10000, 500):
    items = [{"coord": f"{i % 100},{i // 100}", "payload": {"text": f"{topics[i % len(topics)]} topic {i % 97} item {i}"}} for i in range(start, start + 500)]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/memories/bulk", data=json.dumps({"items": items}).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
PY
echo "loaded: $(curl -s "http://127.0.0.1:$port/v1/stats")"

run() {  # name, path, wrk arguments...
  local name="$1" path="$2"; shift 2
  wrk -t1 -c16 -d"${duration}s" --latency "$@" "http://127.0.0.1:$port$path" >"$data_dir/$name.txt"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$data_dir/$name.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$data_dir/$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$data_dir/$name.txt")
  echo "$name $rps $p50 $p99"
}

results=()
results+=("$(run healthz /healthz)")
results+=("$(run store / -s scripts/bench/store.lua)")
results+=("$(run get / -s scripts/bench/get.lua)")
results+=("$(run recall / -s scripts/bench/recall.lua)")
ceiling=$(echo "${results[0]}" | awk '{print $2}')
printf '%-8s %12s %10s %10s %18s\n' operation "requests/s" p50 p99 "ratio to /healthz"
for line in "${results[@]}"; do
  set -- $line
  printf '%-8s %12s %10s %10s %18s\n' "$1" "$2" "$3" "$4" "$(awk -v a="$2" -v b="$ceiling" 'BEGIN {printf "%.3f", a / b}')"
done
