# Sourced first by every benchmark script: strict mode (a failure inside $(...), such as a wrk run
# with failed requests, stops the script too), the repository root, wrk and its checked runs, and a
# release build of soma.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
source scripts/bench/wrk_checked.sh
swift build -c release --product soma >/dev/null
