#!/usr/bin/env bash
# The images a real node needs besides Reprise's (no registry is reachable here): the pod
# sandbox's pause program and CoreDNS, each FROM scratch with its binary from
# build-binaries.sh, written as OCI archives to .tools/k8s/images/ for `ctr images import`.
# The names must match tools/dev-cluster/real-node (PAUSE_IMAGE, COREDNS_IMAGE). Cached: an
# archive is rebuilt only when its binary changed.
set -euo pipefail
. "$(dirname "$0")/../image/lib.sh"
BIN="$TOOLS/k8s/bin"
OUT="$TOOLS/k8s/images"
mkdir -p "$OUT"
exec 8>"$OUT/.build.lock"
flock 8

# build NAME IMAGE BINARY USER ENTRYPOINT...
build() {
  local name=$1 image=$2 binary=$3 user=$4
  shift 4
  local archive="$OUT/$name.oci.tar" want
  want="$image $(sha256sum "$binary" | cut -d' ' -f1)"
  if [ -s "$archive" ] && [ "$(cat "$archive.inputs" 2>/dev/null)" = "$want" ]; then return; fi
  need_tools buildah
  local ctr
  ctr="$(bh from scratch)"
  bh copy --chmod 0755 "$ctr" "$binary" "/$(basename "$binary")" >/dev/null
  bh config --user "$user" --entrypoint "$(printf '%s\n' "$@" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))')" --cmd '' "$ctr"
  bh commit --quiet --rm "$ctr" "$image" >/dev/null
  rm -f "$archive.tmp"
  bh push --quiet "$image" "oci-archive:$archive.tmp:$image"
  mv "$archive.tmp" "$archive"
  echo "$want" >"$archive.inputs"
  echo "node-images: $image -> $archive" >&2
}

build pause localhost/reprise-pause:1 "$BIN/pause" 65535 /pause
build coredns localhost/reprise-coredns:1 "$BIN/coredns" 65532 /coredns
echo "$OUT"
