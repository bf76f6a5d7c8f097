# syntax=docker/dockerfile:1
# Build: docker build --build-arg VERSION=$(git describe --always) -t chathub-operator-worker .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/chathub-operator-worker/worker/internal/app.Version=${VERSION}" -o /out/worker ./cmd/worker

# distroless/static carries CA certificates and runs as a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/worker /worker
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/worker"]
