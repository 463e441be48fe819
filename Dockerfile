# pyimage, for `pyimage serve` in a cluster (deploy/kubernetes/). Neither base image is a Python image; a test runs
# `pyimage check --env prod` over this file. Pin both by digest in your build pipeline.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p pyimage

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/pyimage /usr/local/bin/pyimage
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/pyimage"]
CMD ["serve"]
