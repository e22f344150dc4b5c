#!/usr/bin/env bash
# A/B of the service's main paths: this checkout against BASE_COMMIT, both release builds, measured
# alternately in one run (each round runs both, the order swapped every round), each build on its
# own data directory loaded the same way, so both meet the same machine at the same moments.
#   scripts/bench_ab.sh BASE_COMMIT [ROUNDS, default 4] [MEMORIES, default 20000] [SECONDS per run, default 8]
# Prints, per operation (get, vector recall, hybrid recall, store; wrk, 16 connections), each build's
# median requests/s, p50 and p99, and the ratio this/base of the medians with its spread (the lowest and
# highest ratio of one round's pair). A ratio whose spread straddles 1 is noise, not a change.
# The baseline is built in a git worktree in /tmp, kept for later runs. The hash embedder serves
# both (SOMA_BENCH_EMBEDDER=minilm for the model), so the figures are of the paths themselves.
# SOMA_BENCH_DATA_DIR=DIR: both builds serve that directory, already loaded with MEMORIES memories by
# scripts/bench/load_memories.py (a million takes 9 minutes to load; this skips loading it twice);
# stores are then left out, so neither build changes what the other reads.
source "$(dirname "$0")/bench/common.sh"  # strict mode, the repository root, wrk, this checkout's release build
base="$(git rev-parse "${1:?usage: scripts/bench_ab.sh BASE_COMMIT [ROUNDS] [MEMORIES] [SECONDS]}")"
rounds="${2:-4}"
count="${3:-20000}"
duration="${4:-8}"
tree="/tmp/soma-bench-baseline-${base:0:12}"
if [ ! -x "$tree/.build/release/soma" ]; then
    [ -d "$tree" ] || git worktree add --detach "$tree" "$base" >/dev/null
    echo "building $base in release (the first time takes minutes)" >&2
    (cd "$tree" && swift build -c release --product soma >/dev/null)
fi
work="$(mktemp -d)"
server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
port="${SOMA_BENCH_PORT:-9598}"
binary() { [ "$1" = base ] && echo "$tree/.build/release/soma" || echo "$PWD/.build/release/soma"; }
shared="${SOMA_BENCH_DATA_DIR:-}"
data() { [ -n "$shared" ] && echo "$shared" || echo "$work/$1"; }
operations="get:get.lua vector:recall.lua hybrid:rest_recall_hybrid.lua"
[ -n "$shared" ] || operations="$operations store:store.lua"

start() {  # build
    env SOMA_EMBEDDER="${SOMA_BENCH_EMBEDDER:-hash}" SOMA_PORT="$port" SOMA_RATE_LIMIT_MAX=0 SOMA_DATA_DIR="$(data "$1")" LOG_LEVEL=error \
        "$(binary "$1")" serve >>"$work/$1.log" 2>&1 &
    server=$!
    for _ in $(seq 1 3000); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.02; done
    echo "$1 did not start:" >&2; tail -20 "$work/$1.log" >&2; exit 1
}
stop() { kill -TERM "$server"; wait "$server" || true; server=""; }

load() {  # build: the memories scripts/bench.sh loads, so get.lua finds them
    start "$1"
    python3 scripts/bench/load_memories.py "$port" "$count"
    stop
}

measure() {  # build round: one line per operation, "operation build round rps p50_ms p99_ms"
    start "$1"
    export SOMA_BENCH_MEMORIES="$count"
    # Reads first; store last, since the vectors it adds wait for the background merge meanwhile.
    for operation in $operations; do
        local name="${operation%%:*}" script="${operation#*:}" out="$work/$1-$2-${operation%%:*}.txt"
        wrk_checked "$out" -t1 -c16 -d"${duration}s" --latency -s "scripts/bench/$script" "http://127.0.0.1:$port/"
        local p50 p99
        p50=$(wrk_latency_ms "$out" 50%)
        p99=$(wrk_latency_ms "$out" 99%)
        echo "$name $1 $2 $(awk '/Requests\/sec/ {print $2}' "$out") $p50 $p99" >>"$work/results.txt"
    done
    stop
}

echo "base $(git log --format='%h %s' -1 "$base" | cut -c1-70)"
echo "this $(git log --format='%h %s' -1 HEAD | cut -c1-70)$(git diff --quiet HEAD -- Sources Package.swift || echo ' (with uncommitted changes)')"
echo "$count memories${shared:+ (both builds serving $shared; no stores)}, $rounds rounds of $duration s per operation, $(nproc) cores"
[ -n "$shared" ] || { load base; load this; }
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then measure base "$round"; measure this "$round"; else measure this "$round"; measure base "$round"; fi
done
python3 - "$work/results.txt" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    operation, build, round_, rps, p50, p99 = line.split()
    rows[operation].setdefault(build, {})[int(round_)] = (float(rps), float(p50), float(p99))
print("| operation | base requests/s | this requests/s | this/base | spread (per round) | base p50 ms | this p50 ms | base p99 ms | this p99 ms |")
print("|---|---|---|---|---|---|---|---|---|")
for operation in [o for o in ["get", "vector", "hybrid", "store"] if o in rows]:
    base, this = rows[operation]["base"], rows[operation]["this"]
    ratios = [this[r][0] / base[r][0] for r in sorted(base) if r in this]
    median = lambda runs, i: statistics.median(v[i] for v in runs.values())
    print(f"| {operation} | {median(base, 0):,.0f} | {median(this, 0):,.0f} | {median(this, 0) / median(base, 0):.2f}x "
          f"| {min(ratios):.2f}-{max(ratios):.2f} | {median(base, 1):.2f} | {median(this, 1):.2f} | {median(base, 2):.2f} | {median(this, 2):.2f} |")
PY
