# syntax=docker/dockerfile:1.7
FROM python:3.12-slim AS base
RUN <<EOF
FROM evil:latest
COPY --from=evil2 / /
EOF
COPY <<-"CONF" <<OTHER /etc/
	FROM inside:tabbed
	CONF
FROM another:one
OTHER
RUN ["echo", "<<NOTHEREDOC"]
FROM base
RUN cat <<'X' > /tmp/y && echo done
COPY --from=nope:1 / /
X
