# syntax=docker/dockerfile:1
# The tier service, one image for both tiers (the Deployment's arguments pick the tier).
# Build from the repository root:  docker build -f Manifests/images/tier.Dockerfile -t tierserve/tier:latest .

FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libcurl4-openssl-dev libssl-dev libmicrohttpd-dev \
        libyaml-dev libopenblas-dev libdeflate-dev libpng-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
# SwiftPM reads every target the manifest declares, test targets included.
COPY Tests Tests
RUN swift build -c release --static-swift-stdlib --product tier

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcurl4 libssl3 libmicrohttpd12 libyaml-0-2 libopenblas0-pthread \
        libdeflate0 libpng16-16 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin tierserve
COPY --from=build /src/.build/release/tier /usr/local/bin/tier
USER 10001:10001
EXPOSE 5000
ENTRYPOINT ["/usr/local/bin/tier"]
