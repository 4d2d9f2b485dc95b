#!/usr/bin/env bash
# Builds swe-selfplay/toolz:latest: the base image with the toolz source (a git repository) at /testbed,
# then checks that its test suite passes inside. Skips the build when an image with the same content key exists.
#
# Usage: scripts/build-toolz-image.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image="${SWE_SELFPLAY_TOOLZ_IMAGE:-swe-selfplay/toolz:latest}"
base="${SWE_SELFPLAY_BASE_IMAGE:-swe-selfplay/base:bookworm}"
force=0
for argument in "$@"; do
  case "$argument" in
    --force) force=1 ;;
    *) echo "unknown option: $argument (expected --force)" >&2; exit 2 ;;
  esac
done
log() { echo "[build-toolz-image] $*" >&2; }

# Concurrent callers (parallel test workers) wait for one build instead of racing.
exec 9> "${TMPDIR:-/tmp}/swe-selfplay-image-build.lock"
flock 9

if ! docker version >/dev/null 2>&1; then
  echo "no Docker engine answers: start one (e.g. 'dockerd > /var/log/dockerd.log 2>&1 &') and retry" >&2
  exit 2
fi
base_id="$(docker image inspect --format '{{.Id}}' "$base" 2>/dev/null || true)"
[ -n "$base_id" ] || { echo "base image $base is missing: run scripts/build-base-image.sh (or 'swe-selfplay images build-base')" >&2; exit 2; }

source_dir="$(bash "$here/fetch-toolz.sh")"
version="$(cat "$source_dir/.git/swe-selfplay-version")"
commit="$(git -C "$source_dir" rev-parse HEAD)"
key="$( { cat "$here/build-toolz-image.sh"; echo "$base_id"; echo "$version"; } | sha256sum | cut -c1-32)"

existing="$(docker image inspect --format '{{ index .Config.Labels "swe-selfplay.content-key" }}' "$image" 2>/dev/null || true)"
if [ "$force" = 0 ] && [ "$existing" = "$key" ]; then
  log "$image is up to date (content key $key)"
  echo "$image"
  exit 0
fi

# Build from a clean copy of the commit so stray caches in the checkout never reach the image.
work="$(mktemp -d "${TMPDIR:-/tmp}/swe-selfplay-toolz-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
git clone -q "$source_dir" "$work/testbed"
git -C "$work/testbed" remote remove origin
cat > "$work/Dockerfile" <<EOF
FROM $base
COPY testbed /testbed
WORKDIR /testbed
LABEL swe-selfplay.content-key="$key" swe-selfplay.kind="toolz" swe-selfplay.toolz-version="$version" swe-selfplay.toolz-commit="$commit"
EOF
log "building $image from $base ($version)"
DOCKER_BUILDKIT=0 docker build -q -t "$image" "$work" > "$work/build.log" 2>&1 \
  || { tail -n 30 "$work/build.log" >&2; echo "docker build of $image failed (log above)" >&2; exit 2; }

log "checking that the toolz tests pass inside $image"
if ! output="$(docker run --rm --network none "$image" python3 -m pytest -q -p no:cacheprovider 2>&1)"; then
  printf '%s\n' "$output" | tail -n 30 >&2
  docker image rm -f "$image" >/dev/null 2>&1 || true
  echo "the toolz tests fail inside $image (output above); image removed" >&2
  exit 2
fi
log "$(printf '%s\n' "$output" | tail -n 1)"
echo "$image"
