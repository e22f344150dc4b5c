# Sourced by the benchmark scripts. wrk_checked OUTPUT WRK-ARGUMENTS... runs wrk into OUTPUT and
# fails when any answer was not 2xx or any socket error happened: wrk counts those as requests, so
# its requests/s would include failures.
wrk_checked() {
  local output="$1"; shift
  wrk "$@" >"$output"
  local failures
  failures=$(awk '/Non-2xx or 3xx responses/ {s += $NF} /Socket errors/ {gsub(",", ""); s += $4 + $6 + $8 + $10} END {print s + 0}' "$output")
  if [ "$failures" -gt 0 ]; then
    echo "wrk $*: $failures failed requests (non-2xx answers or socket errors); the run does not count:" >&2
    cat "$output" >&2
    return 1
  fi
}
