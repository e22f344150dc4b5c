#!/usr/bin/env bash
# Installs the system packages the build and the tests need (Debian). Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(libsqlite3-dev libhnswlib-dev curl)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
command -v swift >/dev/null || { echo "swift 6 is required (expected at /opt/swift/usr/bin)" >&2; exit 1; }
