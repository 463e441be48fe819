FROM python:3.8-alpine3.19
RUN apk add --no-cache gcc musl-dev
