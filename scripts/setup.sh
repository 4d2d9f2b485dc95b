#!/usr/bin/env bash
# Idempotent setup of everything the project needs, in stages that each print one line with their time:
# host packages (Debian), npm dependencies (npm ci against the committed lock, never rewriting it), what the
# sandboxes' own interpreters need (asked inside a real sandbox, since the local sandbox runs the system's
# /usr, not whatever python3 or node comes first on this shell's PATH), then a Docker engine and the images.
# Safe to run again and again; each stage is skipped when already done.
#
# Usage: scripts/setup.sh   (environment: SWE_SELFPLAY_SKIP_IMAGES=1 skips the image builds;
#   SWE_SELFPLAY_NO_DOCKER=1 skips everything Docker: its package, its engine and the images)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/.." && pwd)"
log() { echo "[setup] $*" >&2; }
started=$SECONDS
stage_started=$SECONDS
stage_done() { log "$1 ($((SECONDS - stage_started)) s)"; stage_started=$SECONDS; }
no_docker="${SWE_SELFPLAY_NO_DOCKER:-0}"
apt_updated=0

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: $* (run as root, or: sudo apt-get install -y $*)"
    exit 2
  fi
  log "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq >&2
    apt_updated=1
  fi
  apt-get install -y -qq --no-install-recommends "$@" >&2
}

# --- host packages ---------------------------------------------------------------------------------------
# command → package that provides it
declare -A needed=(
  [bwrap]=bubblewrap
  [git]=git
  [dpkg-source]=dpkg-dev
  [flock]=util-linux
  [tar]=tar
  [sha256sum]=coreutils
  # Real Go and cargo runs of the canary fixtures (src/validation/harness/runners.test.ts).
  [go]=golang-go
  [cargo]=cargo
)
if [ "$no_docker" != 1 ]; then
  needed[dockerd]=docker.io
  needed[debootstrap]=debootstrap
fi
missing=()
for command in "${!needed[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${needed[$command]}")
done
# The sandbox sees the system's /usr: its python3 is /usr/bin/python3, whatever this shell's PATH says.
[ -x /usr/bin/python3 ] || missing+=(python3)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
[ -d /etc/ssl/certs ] || missing+=(ca-certificates)
[ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"
stage_done "host packages ready"

# --- npm dependencies ------------------------------------------------------------------------------------
# npm ci installs exactly the committed lock and never writes it. Install scripts are skipped and the one
# native module the project needs (better-sqlite3) is built once per version and Node ABI and then copied
# from a cache, so a fresh checkout with a warm cache is ready in seconds.
stamp="$project/node_modules/.swe-selfplay-lock-hash"
lock_hash="$(sha256sum "$project/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_hash" ]; then
  ci_log="$(mktemp)"
  if ! (cd "$project" && npm ci --ignore-scripts --no-audit --no-fund >"$ci_log" 2>&1); then
    if grep -q 'in sync' "$ci_log"; then
      log "package-lock.json is out of sync with package.json: run 'npm install' in $project, commit package-lock.json, and run this again"
    else
      cat "$ci_log" >&2
      log "npm ci failed (output above)"
    fi
    rm -f "$ci_log"
    exit 2
  fi
  rm -f "$ci_log"
  sqlite_version="$(node -p "require('$project/node_modules/better-sqlite3/package.json').version")"
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/swe-selfplay/better-sqlite3/$sqlite_version-node$(node -p 'process.versions.modules')-$(uname -m)"
  release="$project/node_modules/better-sqlite3/build/Release"
  if [ -f "$cache/better_sqlite3.node" ]; then
    mkdir -p "$release"
    cp "$cache/better_sqlite3.node" "$release/"
  else
    log "building better-sqlite3 $sqlite_version for this Node.js (once per version; cached in $cache)"
    (cd "$project" && npm rebuild better-sqlite3 >&2)
    mkdir -p "$cache"
    cp "$release/better_sqlite3.node" "$cache/better_sqlite3.node.tmp" && mv "$cache/better_sqlite3.node.tmp" "$cache/better_sqlite3.node"
  fi
  # esbuild (under tsx) checks its platform binary in a postinstall script; run that one for real.
  (cd "$project" && npm rebuild esbuild >/dev/null 2>&1) || true
  echo "$lock_hash" > "$stamp"
  stage_done "npm dependencies installed (npm ci)"
else
  stage_done "npm dependencies up to date"
fi

# --- what the sandboxes' interpreters need ----------------------------------------------------------------
# Asked inside a real local sandbox: pytest for its python3 and node itself, which the shipped examples and
# the tests use. Each missing piece maps to the Debian package that provides it for the system interpreter.
probe_sandbox() {
  local repo output
  repo="$(mktemp -d)"
  git -C "$repo" init -q
  git -C "$repo" -c user.name=setup -c user.email=setup@swe-selfplay.invalid commit -q --allow-empty -m probe
  output="$(SWE_SELFPLAY_LOG=error node "$project/bin/swe-selfplay.js" sandbox exec --repo "$repo" --timeout 60 -- \
    'command -v python3 >/dev/null && python3 -c "import pytest" 2>/dev/null || echo "missing python3-pytest"
     command -v node >/dev/null || echo "missing nodejs"
     echo probe-done' 2>&1)" || true
  rm -rf "$repo"
  if ! grep -qx 'probe-done' <<<"$output"; then
    printf '%s\n' "$output" >&2
    log "could not run a command in a local sandbox (output above)"
    exit 2
  fi
  sed -n 's/^missing //p' <<<"$output"
}
sandbox_missing=($(probe_sandbox))
if [ "${#sandbox_missing[@]}" -gt 0 ]; then
  apt_install "${sandbox_missing[@]}"
  still=($(probe_sandbox))
  if [ "${#still[@]}" -gt 0 ]; then
    log "the sandbox's interpreters still lack what ${still[*]} provides after installing it; check /usr/bin/python3 and /usr/bin/node"
    exit 2
  fi
fi
stage_done "sandbox interpreters ready (python3 with pytest, node)"

# --- Docker engine ---------------------------------------------------------------------------------------
engine_answers() { [ "$no_docker" != 1 ] && timeout 20 docker version >/dev/null 2>&1; }
if [ "$no_docker" != 1 ]; then
  if ! engine_answers; then
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
      stage_done "Docker engine started"
    else
      log "no Docker engine answers and none can be started here (need root and docker.io); Docker tests will be skipped"
    fi
  fi

  # --- images --------------------------------------------------------------------------------------------
  if [ "${SWE_SELFPLAY_SKIP_IMAGES:-0}" != 1 ] && engine_answers; then
    if [ "$(id -u)" = 0 ]; then
      bash "$here/build-base-image.sh" >/dev/null
    elif ! docker image inspect swe-selfplay/base:bookworm >/dev/null 2>&1; then
      log "the base image is missing and debootstrap needs root: run 'sudo bash scripts/build-base-image.sh'"
    fi
    if docker image inspect swe-selfplay/base:bookworm >/dev/null 2>&1; then
      bash "$here/build-toolz-image.sh" >/dev/null
    fi
    stage_done "sandbox images ready"
  fi
fi
log "ready in $((SECONDS - started)) s"
