#!/usr/bin/env bash
# The Redis cache under 64 concurrent callers: this checkout against a baseline commit's client,
# measured alternately in one run on the same redis-server (scripts/servers.sh's), so both meet the
# same machine and the same server.
#   scripts/bench_redis.sh [BASELINE_COMMIT] [ROUNDS]
# The baseline is built in release in a git worktree of its own (kept in /tmp for later runs).
# Default baseline: the last commit with the thread-per-connection client (before the client on SwiftNIO).
source "$(dirname "$0")/bench/common.sh"
baseline="${1:-$(git log --format=%H -1 --grep='soma redis-bench: the Redis cache under concurrent callers')}"
rounds="${2:-3}"
tree="/tmp/soma-bench-baseline-${baseline:0:12}"
if [ ! -x "$tree/.build/release/soma" ]; then
    [ -d "$tree" ] || git worktree add --detach "$tree" "$baseline" >/dev/null
    (cd "$tree" && swift build -c release --product soma >/dev/null)
fi
scripts/servers.sh start redis >/dev/null
eval "$(scripts/servers.sh env)"
export REDIS_URL="$SOMA_TEST_REDIS_URL" REDIS_DB=6
measure() { "$1" redis-bench --callers 64 --seconds 10 | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["errors"]==0, r; print("%.0f %.2f %.2f" % (r["operations_per_second"], r["pair_p50_ms"], r["pair_p99_ms"]))'; }
echo "| round | client | operations/s | put+get p50 ms | p99 ms |"
echo "|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
    read -r ops p50 p99 <<<"$(measure "$tree/.build/release/soma")"
    echo "| $round | baseline ${baseline:0:7} | $ops | $p50 | $p99 |"
    read -r ops p50 p99 <<<"$(measure .build/release/soma)"
    echo "| $round | this checkout $(git rev-parse --short HEAD) | $ops | $p50 | $p99 |"
done
