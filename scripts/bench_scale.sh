#!/usr/bin/env bash
# Cost as the memories grow, on the embedded default (SQLite and its HNSW graph; the hash embedder at
# 384 dimensions, so the model does not bound the run): for each size, a fresh data directory is
# loaded through /v1/memories/bulk and measured, one row per size in one table:
#   load rate; resident memory after loading (once the background merge has put every vector into
#   the graph); a clean stop, then a cold start with the saved graph (seconds to /readyz; run as root,
#   the page cache is dropped first, so the start reads its files from the disk), the
#   vectors it still had to merge, and resident memory after it; vector and hybrid recall (top 10, wrk 16
#   connections) requests/s, p50 and p99, each measured after a run as long of the same requests (a
#   serving process's caches and page cache filled; the first seconds after a start are not its
#   steady state); stores/s while recall is served (wrk 4 connections storing beside 12 recalling);
#   disk size of the data directory.
#   scripts/bench_scale.sh [SECONDS per run, default 10] [SIZES, default "10000 100000 1000000"]
# SOMA_BENCH_KEEP_DIR=DIR keeps the last size's data directory there (to measure it again, e.g. with
# SOMA_BENCH_DATA_DIR in scripts/bench_ab.sh) instead of deleting it.
source "$(dirname "$0")/bench/common.sh"  # strict mode, the repository root, wrk, a release build
duration="${1:-10}"
sizes="${2:-10000 100000 1000000}"
port="${SOMA_BENCH_PORT:-9597}"
work="$(mktemp -d)"
server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }
resident() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }
start() {  # data directory
    env SOMA_EMBEDDER=hash SOMA_PORT="$port" SOMA_RATE_LIMIT_MAX=0 SOMA_DATA_DIR="$1" LOG_LEVEL=error .build/release/soma serve >>"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 30000); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.01; done
    echo "the server did not start:" >&2; tail -20 "$work/server.log" >&2; exit 1
}
stop() { kill -TERM "$server"; wait "$server" || true; server=""; }
pending() { curl -sf "http://127.0.0.1:$port/metrics" | awk '/^soma_vector_index_pending/ {printf "%.0f", $2}'; }
merged() {  # waits until no vector waits for the graph
    while [ "$(pending)" != "0" ]; do sleep 0.5; done
}
rate() { awk '/Requests\/sec/ {printf "%.0f", $2}' "$1"; }

printf '| memories | load/s | MiB loaded | cold start s | merging after start | MiB started | vector r/s | p50 ms | p99 ms | hybrid r/s | p50 ms | p99 ms | stores/s beside recall | disk MiB |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for count in $sizes; do
    data="$work/data-$count"
    mkdir -p "$data"
    start "$data"
    began=$(now)
    python3 scripts/bench/load_memories.py "$port" "$count"
    load_rate=$(awk -v n="$count" -v s="$(since "$began")" 'BEGIN {printf "%.0f", n / s}')
    merged
    loaded_mib=$(resident)
    stop
    sync
    # Cold means from the disk where this user may say so; else what the page cache still holds.
    if echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then cache="dropped"; else cache="kept"; fi
    began=$(now)
    start "$data"
    cold="$(since "$began") ($cache)"
    waiting=$(pending)
    merged
    started_mib=$(resident)
    export SOMA_BENCH_MEMORIES="$count"
    for mode in vector:recall.lua hybrid:rest_recall_hybrid.lua; do
        wrk_checked "$work/warm.txt" -t1 -c16 -d"${duration}s" -s "scripts/bench/${mode#*:}" "http://127.0.0.1:$port/"
        wrk_checked "$work/${mode%%:*}.txt" -t1 -c16 -d"${duration}s" --latency -s "scripts/bench/${mode#*:}" "http://127.0.0.1:$port/"
    done
    wrk_checked "$work/recalling.txt" -t1 -c12 -d"${duration}s" -s scripts/bench/recall.lua "http://127.0.0.1:$port/" &
    recalling=$!
    wrk_checked "$work/storing.txt" -t1 -c4 -d"${duration}s" -s scripts/bench/store.lua "http://127.0.0.1:$port/"
    wait "$recalling"
    stop
    disk=$(du -sm "$data" | awk '{print $1}')
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$count" "$load_rate" "$loaded_mib" "$cold" "$waiting" "$started_mib" \
        "$(rate "$work/vector.txt")" "$(wrk_latency_ms "$work/vector.txt" 50%)" "$(wrk_latency_ms "$work/vector.txt" 99%)" \
        "$(rate "$work/hybrid.txt")" "$(wrk_latency_ms "$work/hybrid.txt" 50%)" "$(wrk_latency_ms "$work/hybrid.txt" 99%)" \
        "$(rate "$work/storing.txt")" "$disk"
    if [ -n "${SOMA_BENCH_KEEP_DIR:-}" ]; then rm -rf "$SOMA_BENCH_KEEP_DIR" && mv "$data" "$SOMA_BENCH_KEEP_DIR"; else rm -rf "$data"; fi
done
