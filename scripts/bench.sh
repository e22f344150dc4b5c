#!/usr/bin/env bash
# Throughput and latency of store, get-by-coordinate and recall (top_k 10) against a release build
# on the durable default holding N memories, each as a ratio to the same server's /healthz (the
# HTTP stack's ceiling), plus resident memory after loading and start-up time with them.
# Usage: scripts/bench.sh [seconds per run, default 10] [memories, default 10000]
# The server runs the hash embedder (SOMA_BENCH_EMBEDDER=minilm for the model), so these figures
# measure the store path itself and compare with earlier runs; scripts/bench_minilm.sh measures the model.
# SOMA_BENCH_STACK=postgres-redis runs the same against PostgreSQL (records, pgvector) and the Redis
# cache started by scripts/servers.sh, in a fresh database, and reports the cache hit ratio of the
# repeated gets (from the service's soma_cache_lookups_total counters).
source "$(dirname "$0")/bench/common.sh"  # strict mode, the repository root, wrk, a release build
duration="${1:-10}"
count="${2:-10000}"
port="${SOMA_BENCH_PORT:-9599}"

data_dir="$(mktemp -d)"
stack="${SOMA_BENCH_STACK:-sqlite}"
backend_env=()
if [ "$stack" = postgres-redis ]; then
  scripts/servers.sh start >/dev/null
  eval "$(scripts/servers.sh env)"
  redis_bench_url="${SOMA_TEST_REDIS_URL%/0}/1"
  redis-cli -u "${redis_bench_url/:\/\/:/://default:}" --no-auth-warning flushdb >/dev/null
  backend_env=(POSTGRES_URL="$(scripts/servers.sh database soma_bench)" REDIS_URL="$redis_bench_url" POSTGRES_POOL_SIZE=16)
fi
echo "backends: $stack"
server=""
start_server() {
  env "${backend_env[@]}" SOMA_EMBEDDER="${SOMA_BENCH_EMBEDDER:-hash}" SOMA_PORT="$port" SOMA_RATE_LIMIT_MAX=0 SOMA_DATA_DIR="$data_dir" LOG_LEVEL=error .build/release/soma serve >>"$data_dir/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 3000); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.02; done
  echo "server did not start" >&2; exit 1
}
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data_dir"' EXIT
start_server

load_started=$(date +%s.%N)
python3 scripts/bench/load_memories.py "$port" "$count"
echo "loaded in $(awk -v a="$load_started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s: $(curl -s "http://127.0.0.1:$port/v1/stats")"
echo "resident memory after loading: $(awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' /proc/$server/status)"
# A clean stop lets the merge finish (up to 20 s) and saves the HNSW graphs; the next start loads them.
stop_started=$(date +%s.%N)
kill -TERM $server; wait $server || true
echo "clean stop (merge given up to 20 s, graphs saved) in $(awk -v a="$stop_started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
start_started=$(date +%s.%N)
start_server
echo "start-up with $count memories: $(awk -v a="$start_started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s to a healthy /healthz"
echo "resident memory after start-up: $(awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' /proc/$server/status)"

run() {  # name, path, wrk arguments...
  local name="$1" path="$2"; shift 2
  wrk_checked "$data_dir/$name.txt" -t1 -c16 -d"${duration}s" --latency "$@" "http://127.0.0.1:$port$path"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$data_dir/$name.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$data_dir/$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$data_dir/$name.txt")
  echo "$name $rps $p50 $p99"
}

results=()
# Reads first, at rest; store last, since the vectors it adds wait in the exact buffer until the
# background merge has put them into the graph, and every recall scans that buffer meanwhile.
results+=("$(run healthz /healthz)")
lookups() { curl -s "http://127.0.0.1:$port/metrics" | awk -v r="$1" '$0 ~ "^soma_cache_lookups_total" && $0 ~ "result=\"" r "\"" {s += $NF} END {print s + 0}'; }
hits_before=$(lookups hit); misses_before=$(lookups miss)
# Uniform over every loaded memory, then the hot set: the first 10,000, as many as the record cache holds.
export SOMA_BENCH_MEMORIES="$count"
results+=("$(run get / -s scripts/bench/get.lua)")
results+=("$(SOMA_BENCH_MEMORIES=$(( count < 10000 ? count : 10000 )) run get-hot / -s scripts/bench/get.lua)")
hits=$(( $(lookups hit) - hits_before )); misses=$(( $(lookups miss) - misses_before ))
results+=("$(run recall / -s scripts/bench/recall.lua)")
results+=("$(run store / -s scripts/bench/store.lua)")
ceiling=$(echo "${results[0]}" | awk '{print $2}')
printf '%-8s %12s %10s %10s %18s\n' operation "requests/s" p50 p99 "ratio to /healthz"
for line in "${results[@]}"; do
  set -- $line
  printf '%-8s %12s %10s %10s %18s\n' "$1" "$2" "$3" "$4" "$(awk -v a="$2" -v b="$ceiling" 'BEGIN {printf "%.3f", a / b}')"
done
echo "cache hit ratio during the get run: $(awk -v h="$hits" -v m="$misses" 'BEGIN {if (h + m > 0) printf "%.3f (%d hits, %d misses)", h / (h + m), h, m; else print "n/a"}')"

# The ceiling SQLite alone puts on store: the same statements a store runs (record, full-text row,
# count, outbox event, vector row) from one writer thread at synchronous=FULL on a copy of this run's
# data file, committed B stores at a time (16 connections put at most 16 stores in one commit).
# No HTTP, JSON, embedding or graph insertion.
if [ "$stack" = sqlite ] && command -v cc >/dev/null; then
  kill -TERM $server; wait $server || true
  cc -O2 -o "$data_dir/sqlite_floor" scripts/bench/sqlite_floor.c -lsqlite3
  for batch in 1 8 16; do
    cp "$data_dir/soma.sqlite" "$data_dir/floor.sqlite"
    [ ! -f "$data_dir/soma.sqlite-wal" ] || cp "$data_dir/soma.sqlite-wal" "$data_dir/floor.sqlite-wal"
    line=$("$data_dir/sqlite_floor" "$data_dir/floor.sqlite" 8000 "$batch")
    echo "SQLite alone, $line, $(echo "$line" | awk -v c="$ceiling" '{printf "%.3f of /healthz", $3 / c}')"
    rm -f "$data_dir"/floor.sqlite*
  done
fi
