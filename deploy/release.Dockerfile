# The released container image of pyimage (`pyimage serve` in a cluster: deploy/kubernetes/), built by
# .github/workflows/release.yml for linux/amd64 and linux/arm64: the static musl executables of the release archives
# (dist/linux-<arch>/pyimage, the same bytes as the attested archives), on a distroless base that holds CA certificates
# and a nonroot user and no shell. The workflow passes BASE_IMAGE pinned by digest (the tag below resolved when the
# release runs, image@sha256:…); nothing runs at build time, so no emulation is needed for the other architecture.
# The Dockerfile at the root builds from source instead.
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot
FROM ${BASE_IMAGE}
ARG TARGETARCH
COPY dist/linux-${TARGETARCH}/pyimage /usr/local/bin/pyimage
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/pyimage"]
CMD ["serve"]
