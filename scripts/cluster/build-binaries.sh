#!/usr/bin/env bash
# Builds the test cluster's Go binaries from the Go module proxy (the recipes of
# ../shared/reference/real-parts.md and real-pods.md) into .tools/k8s/bin: kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet and kube-proxy v1.35.4, KWOK v0.8.0,
# CoreDNS v1.14.7 and the pod sandbox's pause program (scripts/cluster/pause). About 20
# minutes cold on 2 cores; a second run finds the binaries and returns at once.
set -euo pipefail
K8S_VERSION=v1.35.4
STAGING_VERSION=v0.35.4
KWOK_VERSION=v0.8.0
COREDNS_VERSION=v1.14.7
K8S_COMMANDS="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="${REPRISE_TOOLS:-$ROOT/.tools}/k8s"
BIN="$TOOLS/bin"
SRC="$TOOLS/src"
mkdir -p "$BIN" "$SRC"

have() { [ -x "$BIN/$1" ] && [ -f "$BIN/$1.version" ] && [ "$(cat "$BIN/$1.version")" = "$2" ]; }

# Go only when something is missing: a machine with the binaries cached needs none.
need_go() {
  if ! command -v go >/dev/null; then
    echo "build-binaries: go is required (Go 1.25+) to build the test control plane" >&2
    exit 1
  fi
}

# One build at a time (tests and ensure-kube-tools may start this concurrently): the second
# waits here, then finds everything built.
if command -v flock >/dev/null; then
  exec 9>"$TOOLS/.build.lock"
  flock 9
fi

missing_k8s=""
for cmd in $K8S_COMMANDS; do have $cmd $K8S_VERSION || missing_k8s="$missing_k8s $cmd"; done
if [ -n "$missing_k8s" ]; then
  need_go
  cd "$SRC"
  # The wrapper module, unless one that imports every command is there (an older layout
  # without kubelet and kube-proxy is rewritten: `go mod tidy` only adds requirements, so
  # the Go build cache stays warm).
  wrapper_ok=1
  [ -f go.sum ] || wrapper_ok=0
  for cmd in $K8S_COMMANDS; do grep -q "k8s.io/kubernetes/cmd/$cmd\"" tools.go 2>/dev/null || wrapper_ok=0; done
  if [ $wrapper_ok = 0 ]; then
    # k8s.io/kubernetes cannot be required without replacing its staging modules.
    gomod="$(go mod download -json k8s.io/kubernetes@$K8S_VERSION | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
    {
      echo "module local/k8sbin"
      echo
      echo "go 1.25.0"
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      echo "replace ("
      grep -oE '^\s*k8s\.io/[a-z0-9./-]+ => \./staging/' "$gomod" | awk '{print "\t" $1 " => " $1 " '"$STAGING_VERSION"'"}'
      echo ")"
    } >go.mod
    cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
)
GO
    GOFLAGS=-mod=mod go mod tidy
  fi
  LDF="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=35"
  for cmd in $missing_k8s; do
    if ! have $cmd $K8S_VERSION; then
      echo "build-binaries: building $cmd $K8S_VERSION (minutes on a cold cache)" >&2
      go build -ldflags "$LDF" -o "$BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd"
      echo $K8S_VERSION >"$BIN/$cmd.version"
    fi
  done
fi

if ! have kwok $KWOK_VERSION; then
  need_go
  echo "build-binaries: building kwok $KWOK_VERSION" >&2
  GOBIN="$BIN" go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION
  echo $KWOK_VERSION >"$BIN/kwok.version"
fi

if ! have coredns $COREDNS_VERSION; then
  need_go
  echo "build-binaries: building coredns $COREDNS_VERSION (about 4 minutes cold)" >&2
  CGO_ENABLED=0 GOBIN="$BIN" go install github.com/coredns/coredns@$COREDNS_VERSION
  echo $COREDNS_VERSION >"$BIN/coredns.version"
fi

# Versioned by its source: a change to the program rebuilds it.
PAUSE_SRC="$ROOT/scripts/cluster/pause/main.go"
PAUSE_VERSION="$(sha256sum "$PAUSE_SRC" | cut -c1-16)"
if ! have pause "$PAUSE_VERSION"; then
  need_go
  (cd "$(dirname "$PAUSE_SRC")" && CGO_ENABLED=0 GO111MODULE=off go build -ldflags "-s -w" -o "$BIN/pause" main.go)
  echo "$PAUSE_VERSION" >"$BIN/pause.version"
fi

# KWOK 0.8 refuses to start without stages: the fast node/pod lifecycles from its module.
if [ ! -s "$TOOLS/kwok-stages.yaml" ]; then
  need_go
  kwokdir="$(go mod download -json sigs.k8s.io/kwok@$KWOK_VERSION | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  : >"$TOOLS/kwok-stages.yaml.tmp"
  for d in node/fast node/heartbeat-with-lease pod/fast; do
    for f in "$kwokdir/kustomize/stage/$d"/*.yaml; do
      case "$(basename "$f")" in kustomization.yaml) continue ;; esac
      { echo "---"; cat "$f"; } >>"$TOOLS/kwok-stages.yaml.tmp"
    done
  done
  mv "$TOOLS/kwok-stages.yaml.tmp" "$TOOLS/kwok-stages.yaml"
fi
echo "$BIN"
