#!/usr/bin/env bash
# Provides versitygw (an Apache-2.0 S3-compatible server) for the S3 store's tests and the
# store-s3-ingest benchmark: built from the Go module proxy into .tools/versitygw/bin, about
# 2 minutes cold; a second run finds the binary and returns at once. Prints its path.
set -euo pipefail
VERSITYGW_VERSION=v1.8.0
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="${REPRISE_TOOLS:-$ROOT/.tools}/versitygw"
BIN="$TOOLS/bin"
mkdir -p "$BIN"

have() { [ -x "$BIN/versitygw" ] && [ -f "$BIN/versitygw.version" ] && [ "$(cat "$BIN/versitygw.version")" = "$VERSITYGW_VERSION" ]; }

if ! have; then
  # One build at a time: a concurrent run waits here, then finds the binary built.
  if command -v flock >/dev/null; then
    exec 9>"$TOOLS/.build.lock"
    flock 9
  fi
  if ! have; then
    if ! command -v go >/dev/null; then
      echo "ensure-versitygw: go is required (Go 1.24+) to build versitygw $VERSITYGW_VERSION" >&2
      exit 1
    fi
    echo "ensure-versitygw: building versitygw $VERSITYGW_VERSION into $BIN (about 2 minutes cold) ..." >&2
    # Built into a private folder and published by one rename: never half a binary.
    STAGE="$(mktemp -d "$TOOLS/.stage-XXXXXX")"
    trap 'rm -rf "$STAGE"' EXIT
    GOBIN="$STAGE" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
    "$STAGE/versitygw" --version >/dev/null
    mv -f "$STAGE/versitygw" "$BIN/versitygw"
    echo "$VERSITYGW_VERSION" >"$BIN/versitygw.version"
  fi
fi
echo "$BIN/versitygw"
