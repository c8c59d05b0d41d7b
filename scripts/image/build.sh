#!/usr/bin/env bash
# `npm run image`: builds localhost/reprise:<package.json version> from the project's
# Dockerfile with buildah, on the local Node 24 base (node-base.sh; no registry is needed),
# writes the OCI archive to .tools/image/reprise-<inputs hash>.oci.tar (reprise.oci.tar links to
# the latest), and prints the archive's path and the image name (two lines, stdout). Cached:
# when nothing that goes into the image changed (Dockerfile, lockfile, sources, base), it
# returns at once. Named by its inputs because worktrees share .tools: two checkouts building
# in turn each keep their archive (the last three are kept) instead of rebuilding each other's.
#
# The Dockerfile's `npm ci` runs in a build container on the host's network, with this
# machine's CA bundle and an npmrc pointing at it mounted for the build only (-v: they are not
# in the image). The registry is reached the same way `npm ci` reaches it on this machine.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
VERSION="$(node -p "require('$ROOT/package.json').version")"
IMAGE="localhost/reprise:$VERSION"
LATEST="$IMAGE_DIR/reprise.oci.tar"

# What the build reads: the Dockerfile's COPY sources (as .dockerignore leaves them), the
# base image and these scripts. Contents and names, so a rename counts too.
inputs() {
  (cd "$ROOT" && find Dockerfile .dockerignore package.json package-lock.json tsconfig.json bin \
    scripts/bundle-workflows.mjs scripts/image src cli sidecar workflows activities workers \
    -type f -print0 | sort -z | xargs -0 sha256sum)
  echo "$IMAGE $(bh inspect --type image --format '{{.FromImageID}}' "$1")"
}
# The archive of these inputs, when built: printed with the image name, and the script ends.
found() {
  ARCHIVE="$IMAGE_DIR/reprise-${want:0:16}.oci.tar"
  [ -s "$ARCHIVE" ] || return 1
  ln -sfn "$(basename "$ARCHIVE")" "$LATEST"
  echo "$ARCHIVE"
  echo "$IMAGE"
  exit 0
}

# Built already (archives appear whole, by rename): no need to queue behind another build.
base_version="$(sed -n 's/^NODE_WHEEL_VERSION="${NODE_WHEEL_VERSION:-\([^}]*\)}"$/\1/p' "$ROOT/scripts/image/node-base.sh")"
base="localhost/reprise-node-base:${NODE_WHEEL_VERSION:-$base_version}"
if bh inspect --type image "$base" >/dev/null 2>&1; then
  want="$(inputs "$base" | sha256sum | cut -d' ' -f1)"
  found || true
fi

# One build at a time (tests and people may start this together); the second finds it built.
exec 9>"$IMAGE_DIR/.build.lock"
flock 9

base="$(bash "$ROOT/scripts/image/node-base.sh")"
want="$(inputs "$base" | sha256sum | cut -d' ' -f1)"
found || true

# The CA bundle npm trusts on this machine (npm's cafile, else Node's extra CAs, else the
# system bundle), and an npmrc naming it, in a folder mounted at npm's global config dir.
ca="$(npm config get cafile 2>/dev/null || true)"
[ -n "$ca" ] && [ "$ca" != null ] && [ -f "$ca" ] || ca="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
buildcfg="$(mktemp -d "$IMAGE_DIR/.buildcfg-XXXXXX")"
trap 'rm -rf "$buildcfg"' EXIT
cp -L "$ca" "$buildcfg/ca.crt"
printf 'cafile=/usr/local/etc/ca.crt\nupdate-notifier=false\nfund=false\naudit=false\n' >"$buildcfg/npmrc"
mkdir -p "$IMAGE_DIR/npm-cache"

echo "image: building $IMAGE on $base" >&2
started=$SECONDS
# Untagged images of earlier builds: removed after this one, except the steps it reused.
earlier="$(bh images --all --quiet --no-trunc --filter dangling=true | sed 's/^sha256://' | sort -u)"
# --layers: a change to the sources reuses the `npm ci` layer of the lockfile it had.
# --isolation chroot: build steps need no container runtime setup (no cgroups, no netns).
bh bud --layers --isolation chroot --network host \
  -v "$buildcfg:/usr/local/etc:ro" -v "$IMAGE_DIR/npm-cache:/root/.npm" \
  --build-arg "NODE_IMAGE=$base" -t "$IMAGE" -f "$ROOT/Dockerfile" "$ROOT" | tee "$buildcfg/build.log" >&2
# (A cold build reuses nothing: grep finds no line, which is not a failure.)
reused="$({ grep -oE 'Using cache [0-9a-f]{64}' "$buildcfg/build.log" || true; } | cut -d' ' -f3 | sort -u)"
for id in $(comm -23 <(echo "$earlier") <(echo "$reused")); do bh rmi --force "$id" >/dev/null 2>&1 || true; done
rm -f "$ARCHIVE.tmp"
bh push --quiet "$IMAGE" "oci-archive:$ARCHIVE.tmp:$IMAGE" >&2
mv "$ARCHIVE.tmp" "$ARCHIVE"
rm -f "$LATEST.inputs"
ln -sfn "$(basename "$ARCHIVE")" "$LATEST"
# shellcheck disable=SC2012 # names without spaces, newest first
ls -t "$IMAGE_DIR"/reprise-*.oci.tar | tail -n +4 | xargs -r rm -f
echo "image: $IMAGE built in $((SECONDS - started)) s; archive $(du -m "$ARCHIVE" | cut -f1) MB" >&2
echo "$ARCHIVE"
echo "$IMAGE"
