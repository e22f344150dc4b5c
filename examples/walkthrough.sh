#!/usr/bin/env bash
# A curl walk-through: store, recall, link, path. Start the server first: swift run soma serve
set -euo pipefail
BASE="${SOMA_URL:-http://127.0.0.1:9595}"
AUTH=()
[ -n "${SOMA_API_TOKEN:-}" ] && AUTH=(-H "Authorization: Bearer $SOMA_API_TOKEN")
NS=(-H "X-Soma-Namespace: ${SOMA_NAMESPACE:-walkthrough}")
post() { curl -sS "${AUTH[@]}" "${NS[@]}" -H 'Content-Type: application/json' -X POST "$BASE$1" -d "$2"; echo; }
get() { curl -sS "${AUTH[@]}" "${NS[@]}" "$BASE$1"; echo; }

echo "# store three memories"
post /v1/memories '{"coord":"1,0,0","payload":{"text":"Met Ada to plan the falcon launch","who":"ada"},"type":"episodic"}'
post /v1/memories '{"coord":"2,0,0","payload":{"text":"Falcon launch moved to Friday","project":"falcon"},"type":"episodic"}'
post /v1/memories '{"coord":"3,0,0","payload":{"text":"Launch checklists prevent missed steps"},"type":"semantic","importance":3}'

echo "# recall by meaning, by words, and both"
post /v1/memories/search '{"query":"when is the falcon launch","top_k":2}'
post /v1/memories/search '{"query":"checklists","mode":"keyword"}'
post /v1/memories/search '{"query":"falcon launch","mode":"hybrid","top_k":3}'

echo "# link them and find a path"
post /v1/links '{"from":"1,0,0","to":"2,0,0","type":"led_to","weight":1}'
post /v1/links '{"from":"2,0,0","to":"3,0,0","type":"taught","weight":2}'
get "/v1/links/neighbors?coord=1,0,0"
get "/v1/links/path?from=1,0,0&to=3,0,0"

echo "# the original routes work too"
post /recall '{"query":"falcon","top_k":1}'
get /stats
