#!/usr/bin/env bash
# Makes sure a JDK 17+ (java, javac, keytool, jlink) and Maven are on PATH, installing Debian's
# openjdk-17-jdk-headless and maven when they are missing (run as root). Idempotent: does
# nothing on a machine that has them. Used by the Java demo build and the JVM tests.
set -euo pipefail

jdk_ok() {
  command -v javac >/dev/null && command -v keytool >/dev/null && command -v jlink >/dev/null || return 1
  local major
  major="$(javac -version 2>&1 | sed -E 's/^javac ([0-9]+).*/\1/')"
  [ "${major:-0}" -ge 17 ] 2>/dev/null
}

if jdk_ok && command -v mvn >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure-jdk: a JDK 17+ (javac, keytool, jlink) and Maven are required; install them (as root: apt-get install openjdk-17-jdk-headless maven)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends openjdk-17-jdk-headless maven >/dev/null 2>&1; then
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends openjdk-17-jdk-headless maven >/dev/null
fi
jdk_ok || { echo "ensure-jdk: installed, but no JDK 17+ javac on PATH" >&2; exit 1; }
