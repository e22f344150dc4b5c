#!/usr/bin/env bash
# Installs the librdkafka that soma runs in production and in every test: 2.16.0, the copy inside
# PyPI's confluent-kafka 2.16.1 wheel (one self-contained library: OpenSSL, SASL, zstd and lz4
# linked in), checked by SHA-256, as DIR/librdkafka.so.1 (default /usr/local/lib/soma-librdkafka).
# soma is built against Debian's librdkafka-dev (2.0.2, the same ABI, soname librdkafka.so.1) and
# loads this one at run time: the image installs it in place of Debian's; tests put DIR on
# LD_LIBRARY_PATH. Debian's 2.0.2 cannot speak to current brokers (Tansu answers its first
# ApiVersion request with a response it cannot read), so it is built against, never run.
#
#   scripts/install-librdkafka.sh [DIR]      prints DIR
set -euo pipefail
dir="${1:-/usr/local/lib/soma-librdkafka}"
version=2.16.0  # librdkafka's own (rd_kafka_version_str), written to DIR/VERSION
wheel_version=2.16.1
wheel="confluent_kafka-$wheel_version-cp311-cp311-manylinux_2_28_x86_64.whl"
sha256=24f613cc81a856b6fbb2d7d11044a9aa770044eecc1f83ff84618688b056be06
if [ "$(cat "$dir/VERSION" 2>/dev/null)" != "$version" ] || [ ! -f "$dir/librdkafka.so.1" ]; then
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    source "$(dirname "$0")/lib/fetch_wheel.sh"
    fetch_wheel "$work" "$wheel" "$sha256" --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
        --platform manylinux_2_28_x86_64 "confluent-kafka==$wheel_version"
    mkdir -p "$dir"
    cp "$work"/wheel/confluent_kafka.libs/librdkafka-*.so.1 "$dir/librdkafka.so.1"
    chmod 755 "$dir" && chmod 644 "$dir/librdkafka.so.1"
    echo "$version" > "$dir/VERSION"
fi
echo "$dir"
