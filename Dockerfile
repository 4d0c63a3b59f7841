# Outcry: a static-ish binary (cgo for SQLite) on a small Debian base.
FROM golang:1.26-bookworm AS build
# Releases build with a patched toolchain (scripts/vulncheck checks the same one);
# the go command fetches it from the module proxy.
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/outcry .

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates wget \
 && rm -rf /var/lib/apt/lists/* && useradd --system --home /data outcry && mkdir -p /data && chown outcry /data
COPY --from=build /out/outcry /usr/local/bin/outcry
USER outcry
WORKDIR /data
ENV OUTCRY_ADDR=:8080 OUTCRY_DATABASE_URL=/data/outcry.db
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD wget -qO- http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/outcry"]
