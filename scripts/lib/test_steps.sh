# Sourced by scripts/test.sh (and by its self-test, Tests/ci): the steps that run tests.
# Bounded, so a hang fails in minutes with the servers' and services' logs instead of eating CI's hour.
bounded() {  # SECONDS COMMAND...
    local limit="$1"; shift
    timeout --kill-after=20 "$limit" "$@" && return 0
    local status=$?
    [ "$status" -ge 124 ] && {
        echo "timed out after $limit s: $*" >&2
        for log in $(ls -t /tmp/soma-stack-*.log 2>/dev/null | head -3); do echo "== $log" >&2; tail -20 "$log" >&2; done
    }
    return "$status"
}
# A swift test step passes only when it ran at least MINIMUM tests (from the runner's closing line:
# a filter that matches nothing runs 0 and exits 0) and skipped none outside ALLOWED (a pattern;
# each allowed skip prints its reason).
swift_tests() {  # MINIMUM ALLOWED SECONDS ARGUMENTS...
    local minimum="$1" allowed="$2" limit="$3"; shift 3
    local log ran skipped
    log="$(mktemp)"
    bounded "$limit" swift test "$@" 2>&1 | tee "$log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    ran=$(grep -Eo 'Test run with [0-9]+ tests?' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
    if [ "${ran:-0}" -lt "$minimum" ]; then
        echo "swift test $*: ran ${ran:-0} tests, expected at least $minimum" >&2
        return 1
    fi
    skipped=$(grep -E ' skipped: ' "$log" | grep -Ev "$allowed" || true)
    if [ -n "$skipped" ]; then
        printf 'swift test %s: skipped outside the allow-list:\n%s\n' "$*" "$skipped" >&2
        return 1
    fi
    rm -f "$log"
}
