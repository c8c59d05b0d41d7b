#!/usr/bin/env bash
# Provides the real HTTP/2 and gRPC peers the protocol tests and benchmarks talk to, cached in
# .tools/grpc (REPRISE_TOOLS moves .tools):
# - grpc-go examples, built from the Go module proxy through a wrapper module (the examples
#   module's own `replace google.golang.org/grpc => ../` makes `go install` refuse it):
#   greeter_server and route_guide server/client (no reflection), reflection_server (the
#   examples' features/reflection server: Greeter + Echo with reflection registered),
#   compression_server/client (Echo with gzip-compressed messages);
#   their .proto files in .tools/grpc/proto for clients without reflection;
# - grpcurl v1.9.3 and ghz v0.93.0 (go install);
# - nghttpd, nghttp and h2load from Debian's nghttp2-server and nghttp2-client, and nghttpx
#   (nghttp2-proxy: the only one of them that accepts an `Upgrade: h2c`) (apt-get);
# - curl (apt-get): an HTTP/2 client that goes through a CONNECT proxy (nghttp does not).
# A second run finds everything and returns at once; a flock serialises concurrent runs.
set -euo pipefail
GRPC_VERSION=v1.85.0
# The examples module has no tags: pinned to a commit of its default branch.
EXAMPLES_VERSION=v0.0.0-20260825154716-030ee8becb20
GRPCURL_VERSION=v1.9.3
GHZ_VERSION=v0.93.0
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="${REPRISE_TOOLS:-$ROOT/.tools}/grpc"
BIN="$TOOLS/bin"
SRC="$TOOLS/src"
PROTO="$TOOLS/proto"
mkdir -p "$BIN" "$SRC" "$PROTO"

log() { echo "ensure-grpc-tools: $*" >&2; }
have() { [ -x "$BIN/$1" ] && [ -f "$BIN/$1.version" ] && [ "$(cat "$BIN/$1.version")" = "$2" ]; }
need_go() {
  if ! command -v go >/dev/null; then
    log "go is required (Go 1.26+) to build the gRPC peers"
    exit 1
  fi
}

exec 9>"$TOOLS/.build.lock"
flock 9

# Debian's nghttp2 tools.
NGHTTP2_TOOLS=(nghttpd nghttp h2load nghttpx curl)
missing=0
for name in "${NGHTTP2_TOOLS[@]}"; do command -v "$name" >/dev/null || missing=1; done
if [ "$missing" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "nghttp2 or curl is missing: run \`sudo apt-get install -y nghttp2-server nghttp2-client nghttp2-proxy curl\` and run this again"
    exit 1
  fi
  log "installing nghttp2-server and nghttp2-client (apt-get) ..."
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt-get (a concurrent ensure script) rather than fail on its lock.
  apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
  if ! "${apt[@]}" install nghttp2-server nghttp2-client nghttp2-proxy curl >&2; then
    # Usually stale package lists on a fresh machine: refresh once and retry.
    "${apt[@]}" update >&2
    "${apt[@]}" install nghttp2-server nghttp2-client nghttp2-proxy curl >&2
  fi
fi

EXAMPLES_STAMP="$EXAMPLES_VERSION+grpc-$GRPC_VERSION"
EXAMPLES=(greeter_server:helloworld/greeter_server
  route_guide_server:route_guide/server
  route_guide_client:route_guide/client
  reflection_server:features/reflection/server
  compression_server:features/compression/server
  compression_client:features/compression/client)
missing=0
for entry in "${EXAMPLES[@]}"; do have "${entry%%:*}" "$EXAMPLES_STAMP" || missing=1; done
if [ "$missing" = 1 ] || [ ! -f "$PROTO/.version" ] || [ "$(cat "$PROTO/.version")" != "$EXAMPLES_STAMP" ]; then
  need_go
  cd "$SRC"
  if [ ! -f go.sum ] || ! grep -q "$EXAMPLES_VERSION" go.mod || ! grep -q compression tools.go; then
    log "resolving grpc-go examples $EXAMPLES_VERSION with grpc $GRPC_VERSION ..."
    cat >go.mod <<MOD
module local/grpcpeers

go 1.26.0

require (
	google.golang.org/grpc $GRPC_VERSION
	google.golang.org/grpc/examples $EXAMPLES_VERSION
)
MOD
    {
      echo '//go:build tools'
      echo
      echo 'package tools'
      echo
      echo 'import ('
      for entry in "${EXAMPLES[@]}"; do echo "	_ \"google.golang.org/grpc/examples/${entry#*:}\""; done
      echo ')'
    } >tools.go
    GOFLAGS=-mod=mod go mod tidy
  fi
  for entry in "${EXAMPLES[@]}"; do
    name="${entry%%:*}"
    if ! have "$name" "$EXAMPLES_STAMP"; then
      log "building $name (google.golang.org/grpc/examples/${entry#*:}) ..."
      go build -o "$BIN/$name.tmp" "google.golang.org/grpc/examples/${entry#*:}"
      mv "$BIN/$name.tmp" "$BIN/$name"
      echo "$EXAMPLES_STAMP" >"$BIN/$name.version"
    fi
  done
  dir="$(go list -m -f '{{.Dir}}' google.golang.org/grpc/examples)"
  cp "$dir/helloworld/helloworld/helloworld.proto" "$dir/route_guide/routeguide/route_guide.proto" \
    "$dir/features/proto/echo/echo.proto" "$PROTO/"
  chmod 644 "$PROTO"/*.proto
  echo "$EXAMPLES_STAMP" >"$PROTO/.version"
fi

go_install() {
  local name=$1 pkg=$2 version=$3
  if ! have "$name" "$version"; then
    need_go
    log "building $name $version (go install $pkg@$version) ..."
    GOBIN="$BIN" go install "$pkg@$version"
    echo "$version" >"$BIN/$name.version"
  fi
}
go_install grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl $GRPCURL_VERSION
go_install ghz github.com/bojand/ghz/cmd/ghz $GHZ_VERSION

for name in "${EXAMPLES[@]%%:*}" grpcurl ghz; do
  echo "$name: $BIN/$name"
done
echo "proto: $PROTO"
for name in "${NGHTTP2_TOOLS[@]}"; do echo "$name: $(command -v "$name")"; done
