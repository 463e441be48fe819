# syntax=docker/dockerfile:1
ARG PY=3.12
	from  python:${PY}-slim
COPY --from=ghcr.io/astral-sh/uv:0.5@sha256:abababababababababababababababababababababababababababababababab /uv /bin/
