#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser tests when it is missing. Idempotent; needs root
# (otherwise prints the command). The tests drive /usr/bin/chromium through playwright-core, never a
# browser build of their own.
set -euo pipefail
log() { echo "[install-chromium] $*" >&2; }
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "chromium is missing: run as root, or: sudo apt-get install -y chromium fonts-dejavu-core"
  exit 2
fi
log "installing chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq chromium fonts-dejavu-core >&2
/usr/bin/chromium --version >&2
