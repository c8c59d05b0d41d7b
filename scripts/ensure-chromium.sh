#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the report tests (they render report.html
# and read the DOM back). Idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium
