#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the report tests (they render report.html
# and read the DOM back). Idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt-get (a parallel test run, another script) may hold dpkg's lock: wait for it.
WAIT_LOCK=(-o DPkg::Lock::Timeout=600)
apt-get "${WAIT_LOCK[@]}" update
apt-get "${WAIT_LOCK[@]}" install -y chromium
