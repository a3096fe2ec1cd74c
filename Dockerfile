# syntax=docker/dockerfile:1
# The rukou image: one static binary on a distroless, non-root base. The
# control plane runs `rukou serve` from it; the Envoy pods run `rukou
# bootstrap` (init container) and `rukou drain` (preStop hook) from it too,
# on the official envoyproxy/envoy image. See deploy/rukou.yaml.
#
#   make image                      # docker build -t ghcr.io/rukou/rukou:v0.1.0 .
#
# deploy/image_test.go runs the `go build` line below as it is written and
# checks that the binary it makes is static.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
# Set by BuildKit; empty (the build platform's) with the classic builder.
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
# .dockerignore keeps bin/, .git/ and the pinned test tools out.
COPY . .
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/rukou ./cmd/rukou

# No shell, no package manager, no libc: the binary, CA certificates and
# /etc/passwd with the nonroot user (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rukou /usr/local/bin/rukou
USER 65532:65532
EXPOSE 18000 18001
ENTRYPOINT ["/usr/local/bin/rukou"]
CMD ["serve"]
