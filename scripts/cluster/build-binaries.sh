#!/usr/bin/env bash
# Builds the test control plane from the Go module proxy (the recipe of
# ../shared/reference/real-parts.md): kube-apiserver, kube-controller-manager,
# kube-scheduler v1.35.4 and KWOK v0.8.0, into .tools/k8s/bin. About 13 minutes cold on
# 2 cores; a second run finds the binaries and returns at once.
set -euo pipefail
K8S_VERSION=v1.35.4
STAGING_VERSION=v0.35.4
KWOK_VERSION=v0.8.0
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

if ! have kube-apiserver $K8S_VERSION || ! have kube-controller-manager $K8S_VERSION || ! have kube-scheduler $K8S_VERSION || ! have kubelet $K8S_VERSION || ! have kube-proxy $K8S_VERSION; then
  need_go
  cd "$SRC"
  if [ ! -f go.sum ]; then
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
  for cmd in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
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
