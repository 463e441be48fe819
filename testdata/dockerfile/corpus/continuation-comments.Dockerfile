FROM \
# a comment inside the instruction
    python:3.12-slim \

    AS builder
RUN apt-get update && \
    # comment in a RUN
    apt-get install -y gcc
FROM docker.io/library/python:3.12\
-slim AS final
COPY --from=builder /x /y
