FROM --platform=$BUILDPLATFORM golang:1.23 AS build
RUN --mount=type=bind,from=build,source=/x,target=/y true
FROM --platform=linux/amd64 python:3.12-slim
ARG TARGETARCH
COPY --from=0 /out /app
COPY --from=BUILD /out /app
COPY --from=${TARGETARCH}-tools /x /y
FROM $UNDECLARED
