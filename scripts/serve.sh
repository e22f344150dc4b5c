#!/usr/bin/env bash
# Runs the service on its embedded default (SQLite in ./data, http://127.0.0.1:9595), installing
# the Debian packages the build links first. Arguments go to `soma serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
scripts/install-deps.sh --build-only
exec swift run soma serve "$@"
