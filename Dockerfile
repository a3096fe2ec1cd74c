# syntax=docker/dockerfile:1
# The rukou control-plane image. Envoy runs from the official
# envoyproxy/envoy image; this image only carries the rukou binary, which the
# Envoy pod's init container also uses for `rukou bootstrap`.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY envoy ./envoy
COPY translator ./translator
COPY watcher ./watcher
COPY xds ./xds
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/rukou ./cmd/rukou

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rukou /usr/local/bin/rukou
USER 65532:65532
EXPOSE 18000 18001
ENTRYPOINT ["/usr/local/bin/rukou"]
CMD ["serve"]
