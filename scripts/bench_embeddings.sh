#!/usr/bin/env bash
# Store throughput through the HTTP API with the OpenAI-compatible embedder against the stand-in
# embeddings server (Tests/EmbeddingsStandIn; no model server runs here), at 0 ms and at 20 ms of
# added latency per embeddings request, for three embedder set-ups: one text per request and one
# request at a time; one text per request, 4 at a time; batches of up to 64 texts, 4 at a time (the
# default). Each figure is also given as a ratio to the built-in hash embedder's store throughput
# in the same run. wrk, 16 connections, on the durable default (SQLite) in a fresh data directory.
# Usage: scripts/bench_embeddings.sh [seconds per run, default 10]
source "$(dirname "$0")/bench/common.sh"  # strict mode, the repository root, wrk, a release build
duration="${1:-10}"
port="${SOMA_BENCH_PORT:-9599}"
standin_port="${SOMA_BENCH_EMBEDDINGS_PORT:-9598}"

work="$(mktemp -d)"
server="" standin=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "$standin" ] && kill "$standin" 2>/dev/null && wait "$standin" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
python3 Tests/EmbeddingsStandIn/embeddings_standin.py --port "$standin_port" --dimension 384 >"$work/standin.log" 2>&1 &
standin=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$standin_port/healthz" >/dev/null && break; sleep 0.1; done

# name, added latency (ms), then the embedder's environment; prints: name stores/s p50 p99
# requests-to-the-stand-in texts
run() {
  local name="$1" latency="$2"; shift 2
  local data="$work/data-$name"
  mkdir -p "$data"
  curl -s -XPOST "http://127.0.0.1:$standin_port/_reset" >/dev/null
  curl -s -XPOST "http://127.0.0.1:$standin_port/_control" -d "{\"delay_ms\": $latency}" >/dev/null
  env "$@" SOMA_PORT="$port" SOMA_RATE_LIMIT_MAX=0 SOMA_DATA_DIR="$data" LOG_LEVEL=error .build/release/soma serve >>"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 500); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.02; done
  wrk_checked "$work/$name.txt" -t1 -c16 -d"${duration}s" --latency -s scripts/bench/store.lua "http://127.0.0.1:$port/"
  kill -TERM "$server"; wait "$server" || true
  server=""
  local stats
  stats=$(curl -s "http://127.0.0.1:$standin_port/_stats")
  echo "$name $(awk '/Requests\/sec/ {print $2}' "$work/$name.txt") $(awk '$1 == "50%" {print $2}' "$work/$name.txt") \
$(awk '$1 == "99%" {print $2}' "$work/$name.txt") $(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(s["requests"], s["texts"])' "$stats")"
}

openai=(SOMA_EMBEDDER=openai SOMA_EMBEDDINGS_URL="http://127.0.0.1:$standin_port/v1" SOMA_EMBEDDINGS_MODEL=standin SOMA_VECTOR_DIM=384)
results=("$(run hash 0 SOMA_EMBEDDER=hash)")
for latency in 0 20; do
  results+=("$(run "${latency}ms-batch1-conc1" "$latency" "${openai[@]}" SOMA_EMBEDDINGS_BATCH_SIZE=1 SOMA_EMBEDDINGS_CONCURRENCY=1)")
  results+=("$(run "${latency}ms-batch1-conc4" "$latency" "${openai[@]}" SOMA_EMBEDDINGS_BATCH_SIZE=1 SOMA_EMBEDDINGS_CONCURRENCY=4)")
  results+=("$(run "${latency}ms-batch64-conc4" "$latency" "${openai[@]}" SOMA_EMBEDDINGS_BATCH_SIZE=64 SOMA_EMBEDDINGS_CONCURRENCY=4)")
done
baseline=$(echo "${results[0]}" | awk '{print $2}')
printf '%-20s %10s %9s %9s %10s %12s %16s\n' embedder "stores/s" p50 p99 requests "texts/request" "ratio to hash"
for line in "${results[@]}"; do
  set -- $line
  printf '%-20s %10s %9s %9s %10s %12s %16s\n' "$1" "$2" "$3" "$4" "$5" \
    "$(awk -v r="$5" -v t="$6" 'BEGIN {if (r > 0) printf "%.1f", t / r; else print "-"}')" "$(awk -v a="$2" -v b="$baseline" 'BEGIN {printf "%.3f", a / b}')"
done
