#!/usr/bin/env bash
# The test command: builds, runs every Swift test target, the Helm chart checks, then the crash
# drill (SIGKILL under HTTP writes on the durable SQLite default; 0 acknowledged writes may be lost).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
scripts/install-deps.sh
swift build --build-tests
swift test
python3 -m pytest -q Tests/helm
python3 scripts/check_image_libs.py .build/debug/soma
python3 scripts/crash_drill.py --binary .build/debug/soma --kills "${SOMA_CRASH_KILLS:-3}"
