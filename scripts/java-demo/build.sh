#!/usr/bin/env bash
# Builds the Java demo (demo/java: java-server, java-client, payments) with Maven from Maven
# Central, and the payments service's TLS material, into .tools/java-demo/<input hash>/, and
# prints that folder on stdout. Cached by the hash of the sources, this script and the JDK and
# Maven versions: a second run prints the folder at once. One build at a time (flock); Maven's
# local repository is .tools/m2, reused by every build.
#
# The folder: java-server.jar, java-client.jar, payments.jar, demo-common.jar (their Class-Path),
# payments.p12 (the dependency's key and certificate, password "changeit", for the names in
# PAYMENTS_NAMES), payments.pem (that certificate), payments-trust.p12 (a truststore with it,
# for a java-server running without Reprise), build.json (times, sizes).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="${REPRISE_TOOLS:-$ROOT/.tools}"
BASE="$TOOLS/java-demo"
# The dependency's host names: locally `localhost` (the one name every process resolves without
# DNS), in a cluster its Service (namespace reprise-demo).
PAYMENTS_NAMES="dns:localhost,dns:payments,dns:payments.reprise-demo.svc,dns:payments.reprise-demo.svc.cluster.local,ip:127.0.0.1"

command -v javac >/dev/null && command -v mvn >/dev/null || bash "$ROOT/scripts/java-demo/ensure-jdk.sh"
mkdir -p "$BASE" "$TOOLS/m2"

# The JDK and Maven by their installed files (running them costs a JVM start each).
tool_id() { local f; f="$(readlink -f "$(command -v "$1")")"; echo "$f $(stat -c %Y "$f")"; }
hash="$(
  {
    cd "$ROOT"
    find demo/java -type f -not -path '*/target/*' | LC_ALL=C sort | xargs sha256sum
    sha256sum scripts/java-demo/build.sh
    tool_id javac
    tool_id mvn
  } | sha256sum | cut -c1-16
)"
OUT="$BASE/$hash"
if [ -f "$OUT/build.json" ]; then
  echo "$OUT"
  exit 0
fi

exec 9>"$BASE/.build.lock"
flock 9
if [ -f "$OUT/build.json" ]; then
  echo "$OUT"
  exit 0
fi

bash "$ROOT/scripts/java-demo/ensure-jdk.sh" # a JDK 17+, checked before building
WORK="$(mktemp -d "$BASE/build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp -r "$ROOT/demo/java" "$WORK/src"
rm -rf "$WORK"/src/*/target
started=$(date +%s.%N)
# Maven's output (errors only, with -q) goes to stderr, without the colour codes it emits anyway.
(cd "$WORK/src" && mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$TOOLS/m2" -DskipTests package) 2>&1 |
  sed 's/\x1b\[[0-9;]*m//g' >&2
built=$(date +%s.%N)

mkdir -p "$WORK/out"
cp "$WORK/src/common/target/demo-common.jar" "$WORK/src/payments/target/payments.jar" \
  "$WORK/src/server/target/java-server.jar" "$WORK/src/client/target/java-client.jar" "$WORK/out/"
keytool -genkeypair -alias payments -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA \
  -dname "CN=payments, O=Reprise demo" -ext "SAN=$PAYMENTS_NAMES" -validity 3650 \
  -keystore "$WORK/out/payments.p12" -storetype PKCS12 -storepass changeit -keypass changeit 2>/dev/null
keytool -exportcert -rfc -alias payments -keystore "$WORK/out/payments.p12" -storepass changeit \
  -file "$WORK/out/payments.pem" 2>/dev/null
keytool -importcert -noprompt -alias payments -file "$WORK/out/payments.pem" \
  -keystore "$WORK/out/payments-trust.p12" -storetype PKCS12 -storepass changeit 2>/dev/null

size() { stat -c %s "$WORK/out/$1"; }
cat >"$WORK/out/build.json" <<JSON
{"hash":"$hash","mavenSeconds":$(awk "BEGIN{printf \"%.1f\", $built - $started}"),"builtAt":"$(date -u +%FT%TZ)",
 "jars":{"java-server.jar":$(size java-server.jar),"java-client.jar":$(size java-client.jar),"payments.jar":$(size payments.jar),"demo-common.jar":$(size demo-common.jar)}}
JSON
mv "$WORK/out" "$OUT"
echo "$OUT"
