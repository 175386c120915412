# syntax=docker/dockerfile:1
# The image every tier's Job runs: the `job` binary, the trained models and the evaluation data.
# Build from the repository root:  docker build -f Manifests/images/job.Dockerfile -t tierserve/job:latest .

FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libopenblas-dev libdeflate-dev libpng-dev libssl-dev \
        python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
# SwiftPM reads every target the manifest declares, test targets included.
COPY Tests Tests
RUN swift build -c release --static-swift-stdlib --product job
# The evaluation splits only, downloaded from the datasets' official sources and checked by sha256.
COPY Training/fetch_data.py Training/fetch_data.py
RUN python3 Training/fetch_data.py --download --data-dir /data \
    && rm /data/mnist/train-*

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libopenblas0-pthread libdeflate0 libpng16-16 libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin tierserve
COPY --from=build /src/.build/release/job /usr/local/bin/job
COPY --from=build /data /opt/tierserve/data
COPY Models /opt/tierserve/models
# The job spreads batches over the cores itself; OpenBLAS's own threads would only spin beside it.
ENV MODEL_DIR=/opt/tierserve/models DATA_DIR=/opt/tierserve/data OPENBLAS_NUM_THREADS=1
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/job"]
