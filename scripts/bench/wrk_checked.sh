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

# wrk_latency_ms OUTPUT PERCENTILE (50%, 99%): that latency of a `wrk --latency` run in milliseconds
# (wrk prints us, ms or s).
wrk_latency_ms() {
  awk -v p="$2" '$1 == p {v = $2; if (v ~ /us$/) {sub("us", "", v); v /= 1000} else if (v ~ /ms$/) sub("ms", "", v); else if (v ~ /s$/) {sub("s", "", v); v *= 1000}; printf "%.2f", v}' "$1"
}
