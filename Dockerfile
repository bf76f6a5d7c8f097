# syntax=docker/dockerfile:1
# The worker image (default target):
#   docker build --build-arg VERSION=$(git describe --always) --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t chathub-operator-worker .
# The ChatHub simulator image, for trying the worker without ChatHub:
#   docker build --target chathub-sim -t chathub-sim .
# The base images are named by tag, so that a rebuild picks up their fixes;
# docs/deploy.md ("Pinning images by digest") says how to pin them.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags "-s -w -X github.com/chathub-operator-worker/worker/internal/buildinfo.Version=${VERSION} \
      -X github.com/chathub-operator-worker/worker/internal/buildinfo.Commit=${COMMIT} \
      -X github.com/chathub-operator-worker/worker/internal/buildinfo.Date=${DATE}" -o /out/worker ./cmd/worker \
 && go build -trimpath -ldflags "-s -w" -o /out/chathub-sim ./cmd/chathub-sim

# distroless/static carries CA certificates and a non-root user (65532).
FROM gcr.io/distroless/static-debian12:nonroot AS chathub-sim
COPY --from=build /out/chathub-sim /chathub-sim
USER nonroot:nonroot
EXPOSE 8090
ENTRYPOINT ["/chathub-sim"]

FROM gcr.io/distroless/static-debian12:nonroot AS worker
COPY --from=build /out/worker /worker
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/worker"]
