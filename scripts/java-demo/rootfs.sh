#!/usr/bin/env bash
# Lays out the root filesystem of the Java demo's image in DEST (default .tools/java-demo/rootfs):
# a jlinked Java runtime (java.base, java.net.http, jdk.httpserver, jdk.crypto.ec: about 35 MB)
# in /opt/java, the libraries it links (from this machine, as `ldd` names them), the demo's jars
# and TLS material in /app (from build.sh), /etc/passwd with an unprivileged `app` user (10001),
# and /tmp. One rootfs serves java-server, java-client and payments; the entrypoint picks one:
#   /opt/java/bin/java -jar /app/java-server.jar
# The runtime is cached in .tools/java-demo/jre-<id>; the image build (buildah) comes later.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="${REPRISE_TOOLS:-$ROOT/.tools}"
BASE="$TOOLS/java-demo"
DEST="${1:-$BASE/rootfs}"
MODULES="java.base,java.net.http,jdk.httpserver,jdk.crypto.ec"

DEMO="$(bash "$ROOT/scripts/java-demo/build.sh")"
jlink_bin="$(readlink -f "$(command -v jlink)")"
jre_id="$(echo "$jlink_bin $(stat -c %Y "$jlink_bin") $MODULES" | sha256sum | cut -c1-12)"
JRE="$BASE/jre-$jre_id"

exec 9>"$BASE/.build.lock"
flock 9
if [ ! -x "$JRE/bin/java" ]; then
  rm -rf "$JRE.tmp"
  jlink --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files --compress=2 \
    --output "$JRE.tmp" >&2
  mv "$JRE.tmp" "$JRE"
fi

rm -rf "$DEST"
mkdir -p "$DEST/opt" "$DEST/app" "$DEST/etc" "$DEST/tmp" "$DEST/proc" "$DEST/sys" "$DEST/dev"
chmod 1777 "$DEST/tmp"
cp -a "$JRE" "$DEST/opt/java"
cp "$DEMO"/*.jar "$DEMO"/payments.p12 "$DEMO"/payments.pem "$DEMO"/payments-trust.p12 "$DEST/app/"
# Every shared library the runtime's executables and libraries need, and the loader itself.
find "$DEST/opt/java" -type f \( -name '*.so' -o -path '*/bin/*' \) -exec ldd {} + 2>/dev/null |
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' |
  grep -v "^$DEST/" | sort -u |
  while read -r lib; do cp -L --parents "$lib" "$DEST/"; done
printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:10001:10001:app:/app:/sbin/nologin\n' >"$DEST/etc/passwd"
printf 'root:x:0:\napp:x:10001:\n' >"$DEST/etc/group"
echo "$DEST"
