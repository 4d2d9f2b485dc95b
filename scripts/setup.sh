#!/usr/bin/env bash
# Idempotent setup of everything the tests need: Debian packages when missing, a Docker engine when installed
# but not running, node_modules when stale against package-lock.json, and the base and toolz images when an
# engine answers. Safe to run again and again; each step is skipped when already done.
#
# Usage: scripts/setup.sh   (environment: SWE_SELFPLAY_SKIP_IMAGES=1 skips the image builds;
#   SWE_SELFPLAY_NO_DOCKER=1 skips everything Docker: its package, its engine and the images)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/.." && pwd)"
log() { echo "[setup] $*" >&2; }
started=$SECONDS

# --- Debian packages -------------------------------------------------------------------------------------
# command → package that provides it
declare -A needed=(
  [bwrap]=bubblewrap
  [git]=git
  [python3]=python3
  [dpkg-source]=dpkg-dev
  [flock]=util-linux
  [tar]=tar
  [sha256sum]=coreutils
)
missing=()
no_docker="${SWE_SELFPLAY_NO_DOCKER:-0}"
if [ "$no_docker" != 1 ]; then
  needed[dockerd]=docker.io
  needed[debootstrap]=debootstrap
fi
for command in "${!needed[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${needed[$command]}")
done
python3 -c 'import pytest' >/dev/null 2>&1 || missing+=(python3-pytest)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
[ -d /etc/ssl/certs ] || missing+=(ca-certificates)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})"
    exit 2
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# --- Docker engine ---------------------------------------------------------------------------------------
engine_answers() { [ "$no_docker" != 1 ] && timeout 20 docker version >/dev/null 2>&1; }
if [ "$no_docker" != 1 ] && ! engine_answers; then
  if [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; then
    log "starting dockerd (log: /var/log/swe-selfplay-dockerd.log)"
    # setsid: the engine must outlive this script and the shell that started it.
    setsid dockerd > /var/log/swe-selfplay-dockerd.log 2>&1 < /dev/null &
    for _ in $(seq 1 60); do
      engine_answers && break
      sleep 1
    done
    if ! engine_answers; then
      tail -n 20 /var/log/swe-selfplay-dockerd.log >&2 || true
      log "dockerd did not come up within 60 s (log above)"
      exit 2
    fi
  else
    log "no Docker engine answers and none can be started here (need root and docker.io); Docker tests will be skipped"
  fi
fi

# --- npm dependencies ------------------------------------------------------------------------------------
# Stale means: package-lock.json changed since our last install, or node_modules does not satisfy it.
stamp="$project/node_modules/.swe-selfplay-lock-hash"
lock_hash="$(sha256sum "$project/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_hash" ]; then
  if [ -d "$project/node_modules" ] && (cd "$project" && npm ls --depth=0 >/dev/null 2>&1); then
    echo "$lock_hash" > "$stamp"
  else
    log "installing npm dependencies (npm ci)"
    ci_log="$(mktemp)"
    if ! (cd "$project" && npm ci --no-audit --no-fund >"$ci_log" 2>&1); then
      # npm ci refuses a lock file that lacks entries, e.g. optional binaries of other platforms that the
      # configured registry does not serve; npm install resolves from package.json and the lock then.
      log "npm ci failed ($(grep -m1 -E 'npm error (Missing|`npm ci` can only)' "$ci_log" | sed 's/^npm error //')); falling back to npm install"
      (cd "$project" && npm install --no-audit --no-fund >&2)
    else
      cat "$ci_log" >&2
    fi
    rm -f "$ci_log"
    echo "$lock_hash" > "$stamp"
  fi
fi

# --- images ----------------------------------------------------------------------------------------------
if [ "${SWE_SELFPLAY_SKIP_IMAGES:-0}" != 1 ] && engine_answers; then
  if [ "$(id -u)" = 0 ]; then
    bash "$here/build-base-image.sh" >/dev/null
  elif ! docker image inspect swe-selfplay/base:bookworm >/dev/null 2>&1; then
    log "the base image is missing and debootstrap needs root: run 'sudo bash scripts/build-base-image.sh'"
  fi
  if docker image inspect swe-selfplay/base:bookworm >/dev/null 2>&1; then
    bash "$here/build-toolz-image.sh" >/dev/null
  fi
fi
log "ready in $((SECONDS - started)) s"
