#!/usr/bin/env bash
# The toolchain's swift-format over every Swift file of ours, with .swift-format's settings:
# `scripts/format.sh` rewrites them, `scripts/format.sh --check` (CI) fails on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
paths=(Sources Tests Plugins Package.swift examples/custom-backend/Sources examples/custom-backend/Tests examples/custom-backend/Package.swift)
if [ "${1:-}" = --check ]; then
    swift format lint --strict --recursive --parallel "${paths[@]}" \
        || { echo "swift-format found the differences above: run scripts/format.sh" >&2; exit 1; }
else
    swift format format --in-place --recursive --parallel "${paths[@]}"
fi
