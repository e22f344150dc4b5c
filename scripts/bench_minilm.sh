#!/usr/bin/env bash
# The in-process all-MiniLM-L6-v2 embedder, measured side by side in one run on a release build:
#  1. `soma embedder-bench`: texts/s at batch 1 and 32 on short (~16 tokens) and long (~190 tokens)
#     texts, a query's latency (batch 1, short), and the machine's sgemm rate (OpenBLAS, the
#     encoder's own shapes, all cores) with the share of it the encoder reaches;
#  2. the numpy reference forward pass (Tests/MiniLMReference/reference.py) on the same texts;
#  3. the service on the durable default with minilm: stores/s at 16 connections (wrk, store.lua)
#     against the embedder's own batch-32 rate, then recalls/s and p99, and resident memory with
#     1,000 memories loaded, beside the same server with SOMA_EMBEDDER=hash.
# Usage: scripts/bench_minilm.sh [seconds per run, default 10]
source "$(dirname "$0")/bench/common.sh"  # strict mode, the repository root, wrk, a release build
duration="${1:-10}"
port="${SOMA_BENCH_PORT:-9599}"
model="${SOMA_EMBEDDER_MODEL_DIR:-/usr/local/share/soma/models/all-MiniLM-L6-v2}"
work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "== embedder (soma embedder-bench, $duration s per figure)"
.build/release/soma embedder-bench --model-dir "$model" --seconds "$duration" --texts "$work/texts.json" | tee "$work/embedder.json"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); [json.dump(t[k], open(f"{sys.argv[2]}/{k}.json", "w")) for k in t]' "$work/texts.json" "$work"
echo "== numpy reference forward pass, same texts"
for set in short long; do
  for batch in 1 32; do
    echo "numpy $set batch $batch: $(python3 Tests/MiniLMReference/reference.py bench "$model" "$batch" "$work/$set.json")"
  done
done

# name, then the embedder's environment: wrk store (into a fresh data directory), then recall over what it stored; prints
# name stores/s store-p50 store-p99 recalls/s recall-p50 recall-p99 resident-MiB-at-1,000-memories (wrk_checked
# stops the script on any failed request)
service() {
  local name="$1"; shift
  mkdir -p "$work/data-$name"
  env "$@" SOMA_PORT="$port" SOMA_RATE_LIMIT_MAX=0 SOMA_DATA_DIR="$work/data-$name" LOG_LEVEL=error .build/release/soma serve >>"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 500); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.02; done
  # Resident memory compared at equal content: 1,000 memories, before the timed runs add more.
  python3 - "$port" <<'PY'
import json, sys, urllib.request
for start in (0, 500):
    items = [{"coord": f"{i},9", "payload": {"text": f"loaded memory {i} about topic {i % 97}"}} for i in range(start, start + 500)]
    request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/memories/bulk", data=json.dumps({"items": items}).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
PY
  local rss
  rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' /proc/$server/status)
  wrk_checked "$work/$name-store.txt" -t1 -c16 -d"${duration}s" --latency -s scripts/bench/store.lua "http://127.0.0.1:$port/"
  wrk_checked "$work/$name-recall.txt" -t1 -c16 -d"${duration}s" --latency -s scripts/bench/recall.lua "http://127.0.0.1:$port/"
  kill -TERM "$server"; wait "$server" || true
  server=""
  echo "$name $(awk '/Requests\/sec/ {print $2}' "$work/$name-store.txt") $(awk '$1 == "50%" {print $2}' "$work/$name-store.txt") \
$(awk '$1 == "99%" {print $2}' "$work/$name-store.txt") $(awk '/Requests\/sec/ {print $2}' "$work/$name-recall.txt") \
$(awk '$1 == "50%" {print $2}' "$work/$name-recall.txt") $(awk '$1 == "99%" {print $2}' "$work/$name-recall.txt") $rss"
}
echo "== the service, wrk 16 connections, $duration s each"
results=("$(service minilm SOMA_EMBEDDER=minilm)" "$(service hash SOMA_EMBEDDER=hash)")
batch32=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["short_batch32_texts_per_second"])' "$work/embedder.json")
printf '%-8s %9s %9s %9s %10s %9s %9s %13s\n' embedder "stores/s" p50 p99 "recalls/s" p50 p99 "MiB at 1,000"
for line in "${results[@]}"; do
  set -- $line
  printf '%-8s %9s %9s %9s %10s %9s %9s %13s\n' "$@"
done
minilm_stores=$(echo "${results[0]}" | awk '{print $2}')
echo "minilm stores/s over the embedder's own batch-32 rate ($batch32 texts/s): $(awk -v a="$minilm_stores" -v b="$batch32" 'BEGIN {printf "%.2f", a / b}')"
echo "resident memory with 1,000 memories, minilm minus hash: $(( $(echo "${results[0]}" | awk '{print $8}') - $(echo "${results[1]}" | awk '{print $8}') )) MiB"
