#!/usr/bin/env bash
# Builds the base sandbox image swe-selfplay/base:bookworm from Debian packages (debootstrap + docker import),
# using the mirror this machine's apt is configured with. Skips the build when an image with the same content key exists.
#
# Usage: scripts/build-base-image.sh [--force] [--print-key]
# Environment: SWE_SELFPLAY_BASE_IMAGE (default swe-selfplay/base:bookworm), SWE_SELFPLAY_DEBIAN_MIRROR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/apt-mirror.sh
. "$here/lib/apt-mirror.sh"

image="${SWE_SELFPLAY_BASE_IMAGE:-swe-selfplay/base:bookworm}"
# What a test run needs: Python with pytest, Node, git for change tracking, procps/util-linux for process-tree control.
packages="bash,coreutils,procps,util-linux,findutils,grep,sed,gawk,diffutils,patch,git,ca-certificates,python3,python3-pytest,nodejs"

force=0
print_key=0
for argument in "$@"; do
  case "$argument" in
    --force) force=1 ;;
    --print-key) print_key=1 ;;
    *) echo "unknown option: $argument (expected --force or --print-key)" >&2; exit 2 ;;
  esac
done

mirror="$(debian_mirror)"
suite="$(debian_suite)"
key="$( { cat "$here/build-base-image.sh" "$here/lib/apt-mirror.sh"; echo "$packages"; echo "$mirror"; echo "$suite"; } | sha256sum | cut -c1-32)"

if [ "$print_key" = 1 ]; then
  echo "$key"
  exit 0
fi

log() { echo "[build-base-image] $*" >&2; }

# Concurrent callers (parallel test workers) wait for one build instead of racing.
exec 9> "${TMPDIR:-/tmp}/swe-selfplay-image-build.lock"
flock 9

if ! docker version >/dev/null 2>&1; then
  echo "no Docker engine answers: start one (e.g. 'dockerd > /var/log/dockerd.log 2>&1 &') and retry" >&2
  exit 2
fi

existing="$(docker image inspect --format '{{ index .Config.Labels "swe-selfplay.content-key" }}' "$image" 2>/dev/null || true)"
if [ "$force" = 0 ] && [ "$existing" = "$key" ]; then
  log "$image is up to date (content key $key)"
  echo "$image"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "debootstrap is not installed: apt-get install -y debootstrap" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "debootstrap needs root" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/var/tmp}/swe-selfplay-base.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
rootfs="$work/rootfs"

log "debootstrap $suite from $mirror into $rootfs"
started=$SECONDS
debootstrap --variant=minbase --include="$packages" --components=main "$suite" "$rootfs" "$mirror" \
  > "$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; echo "debootstrap failed (log above)" >&2; exit 2; }
log "debootstrap done in $((SECONDS - started)) s"

# Git inside sandboxes commits baselines and works on repositories owned by other uids.
chroot "$rootfs" git config --system user.name "swe-selfplay"
chroot "$rootfs" git config --system user.email "swe-selfplay@localhost"
chroot "$rootfs" git config --system safe.directory '*'
chroot "$rootfs" git config --system init.defaultBranch main
# Keep the image small and free of this machine's apt state.
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log "$rootfs"/tmp/* "$rootfs"/root/.cache
: > "$rootfs/etc/apt/sources.list"
mkdir -p "$rootfs/testbed"

log "importing as $image"
tar --numeric-owner -C "$rootfs" -cf - . | docker import \
  --change "LABEL swe-selfplay.content-key=$key" \
  --change "LABEL swe-selfplay.kind=base" \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV LANG=C.UTF-8" \
  --change "WORKDIR /testbed" \
  --change 'CMD ["bash"]' \
  - "$image" >/dev/null
log "built $image in $((SECONDS - started)) s"
echo "$image"
