ARG TAG=3.11
ARG IMAGE="python:${TAG}-slim"
FROM ${IMAGE} AS one
ARG TAG=3.13
ARG IMAGE
RUN --mount=type=cache,from=${IMAGE},target=/x true
FROM python:${TAG} AS two
