#!/usr/bin/env bash
# Installs what the build and the tests need (Debian packages, PyPI packages). Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(libsqlite3-dev libhnswlib-dev curl python3-pip)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
# Package lists are needed anyway: scripts/check_image_libs.py asks apt for dependencies.
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -qq "${missing[@]}"
fi
# Helm's engine (render, strict lint) and Kubernetes schemas, for the chart tests; no cluster needed.
python3 -m pip install -q --disable-pip-version-check helm-python-sdk kubernetes-validate pytest pyyaml
command -v swift >/dev/null || { echo "swift 6 is required (expected at /opt/swift/usr/bin)" >&2; exit 1; }
