#!/usr/bin/env bash
# examples/custom-backend as a contributor uses it: builds the out-of-tree package against this
# checkout, runs its tests (the ConformanceKit cache suite among them), then serves with
# soma-filecache and checks the file cache is listed, chosen by itself, holds what the API stored,
# and answers from its files after a restart. The example names only the MiniLM trait, so this is
# also the minimal build: the embedded default, with no PostgreSQL, Redis, Kafka or Qdrant code and
# no hiredis or librdkafka linked, served end to end (store, word, meaning and hybrid recall, links).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="/opt/swift/usr/bin:$PATH"
source "$root/scripts/lib/test_steps.sh"
cd "$root/examples/custom-backend"
bounded 2400 env -u LD_LIBRARY_PATH swift build --build-tests
swift_tests 3 '^$' 600 --skip-build
binary="$PWD/.build/debug/soma-filecache"
if ldd "$binary" | grep -E 'hiredis|rdkafka'; then echo "the minimal build links a library of a backend it was built without" >&2; exit 1; fi
for setting in POSTGRES_URL REDIS_URL KAFKA_BOOTSTRAP_SERVERS QDRANT_URL; do
    if "$binary" config --names | grep -qx "$setting"; then echo "the minimal build lists $setting, of a backend it lacks" >&2; exit 1; fi
done
"$binary" config --names | grep -qx SOMA_EMBEDDER_MODEL_DIR || { echo "the MiniLM trait's embedder is not registered" >&2; exit 1; }

"$binary" config --names | grep -qx FILECACHE_DIR || { echo "soma config --names does not list FILECACHE_DIR" >&2; exit 1; }
"$binary" config --describe | grep -q '^FILECACHE_DIR=  # Selects the file cache' || { echo "soma config --describe lacks the backend's words" >&2; exit 1; }
work="$(mktemp -d)"
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
FILECACHE_DIR="$work/cache" "$binary" config | grep -qx 'backend.cache=filecache  # FILECACHE_DIR is set' \
    || { echo "soma config does not choose the file cache when FILECACHE_DIR is set" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
serve() {
    env -i PATH="$PATH" HOME="$HOME" SOMA_PORT="$port" SOMA_DATA_DIR="$work/data" SOMA_EMBEDDER=hash FILECACHE_DIR="$work/cache" \
        "$binary" serve >> "$work/serve.log" 2>&1 &
    echo $! > "$work/pid"
    for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && return 0; sleep 0.1; done
    echo "soma-filecache serve did not start:" >&2; tail -20 "$work/serve.log" >&2; exit 1
}
serve
grep -q 'because=FILECACHE_DIR is set.*name=filecache' "$work/serve.log" \
    || { echo "the start-up log does not name the file cache" >&2; tail -20 "$work/serve.log" >&2; exit 1; }
curl -sf -X POST "http://127.0.0.1:$port/v1/memories" -H 'Content-Type: application/json' \
    -d '{"coord":"1,2","payload":{"text":"kept in a file"}}' > /dev/null
curl -sf "http://127.0.0.1:$port/v1/memories/1,2" | grep -q 'kept in a file'
# The embedded default end to end in the minimal build: words, meaning, hybrid, a link and its path.
curl -sf -X POST "http://127.0.0.1:$port/v1/memories" -H 'Content-Type: application/json' \
    -d '{"coord":"3,4","payload":{"text":"invoice INV-2291 paid on 2026-11-30"}}' > /dev/null
for mode in keyword vector hybrid; do
    curl -sf -X POST "http://127.0.0.1:$port/v1/memories/search" -H 'Content-Type: application/json' \
        -d "{\"query\":\"INV-2291\",\"mode\":\"$mode\",\"top_k\":1}" | grep -q '"3,4"' \
        || { echo "minimal build: $mode recall does not find the memory" >&2; exit 1; }
done
curl -sf -X POST "http://127.0.0.1:$port/v1/links" -H 'Content-Type: application/json' -d '{"from":"1,2","to":"3,4","type":"then"}' > /dev/null
curl -sf "http://127.0.0.1:$port/v1/links/path?from=1,2&to=3,4" | grep -q '"3,4"' || { echo "minimal build: no path along the link" >&2; exit 1; }
entries=$(ls "$work/cache" | grep -c '\.entry$' || true)
[ "$entries" -ge 1 ] || { echo "the file cache holds no entry after a store and a read" >&2; exit 1; }
kill -TERM "$(cat "$work/pid")"; wait "$(cat "$work/pid")" 2>/dev/null || true
# After a restart the record is read from the cache's files: a hit in the first read.
serve
curl -sf "http://127.0.0.1:$port/v1/memories/1,2" | grep -q 'kept in a file'
hits=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^soma_cache_lookups_total\{result="hit"\}/ {print $2}')
[ "${hits:-0}" != 0 ] || { echo "no cache hit after the restart: the file cache did not keep the record" >&2; exit 1; }
echo "custom backend: built, conformance passed, chosen by FILECACHE_DIR, $entries file(s) written, a hit after restart"
