#!/usr/bin/env bash
# The Java demo's image for a real node: the root filesystem of rootfs.sh (a jlinked runtime, the
# jars of java-server, java-client and payments, payments' TLS material; no shell, no package
# manager) on `scratch`, built with buildah as an OCI archive in .tools/java-demo/images/.
# Prints the archive and the image name (localhost/reprise-java-demo:<demo build hash>), one a
# line. One image for the three services: they share the 35 MB runtime, and each Deployment
# picks its jar (`java -jar /app/java-server.jar`). Cached by what goes into it (a second run
# prints at once); one build at a time (flock).
set -euo pipefail
. "$(dirname "$0")/../image/lib.sh"
OUT="$TOOLS/java-demo/images"
mkdir -p "$OUT"

DEMO="$(bash "$ROOT/scripts/java-demo/build.sh")"
IMAGE="localhost/reprise-java-demo:$(basename "$DEMO")"
ARCHIVE="$OUT/java-demo.oci.tar"
jlink_bin="$(readlink -f "$(command -v jlink)")"
want="$IMAGE $(cat "$0" "$ROOT/scripts/java-demo/rootfs.sh" | sha256sum | cut -c1-16) $jlink_bin $(stat -c %Y "$jlink_bin")"
cached() { [ -s "$ARCHIVE" ] && [ "$(cat "$ARCHIVE.inputs" 2>/dev/null)" = "$want" ]; }

exec 8>"$OUT/.image.lock"
flock 8
if ! cached; then
  need_tools buildah
  started=$(date +%s)
  rootfs="$(bash "$ROOT/scripts/java-demo/rootfs.sh" "$OUT/rootfs")"
  ctr="$(bh from scratch)"
  bh copy "$ctr" "$rootfs" / >/dev/null
  bh config --user 10001:10001 --workingdir /app --env PATH=/opt/java/bin \
    --entrypoint '["/opt/java/bin/java"]' --cmd '["-jar","/app/java-server.jar"]' "$ctr"
  bh commit --quiet --rm "$ctr" "$IMAGE" >/dev/null
  rm -f "$ARCHIVE.tmp"
  bh push --quiet "$IMAGE" "oci-archive:$ARCHIVE.tmp:$IMAGE" >&2
  # Only the newest tag is kept in the build storage.
  bh images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/reprise-java-demo:' | grep -vx "$IMAGE" |
    xargs -r buildah --root "$STORAGE/storage" --runroot "$STORAGE/run" --storage-driver overlay rmi >/dev/null 2>&1 || true
  mv "$ARCHIVE.tmp" "$ARCHIVE"
  echo "$want" >"$ARCHIVE.inputs"
  rm -rf "$rootfs"
  echo "java-demo image: $IMAGE -> $ARCHIVE ($(du -m "$ARCHIVE" | cut -f1) MB archive, $(($(date +%s) - started)) s)" >&2
fi
echo "$ARCHIVE"
echo "$IMAGE"
