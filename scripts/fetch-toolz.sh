#!/usr/bin/env bash
# Fetches the source of the real-world test library toolz from Debian's source packages (apt-get source)
# into a cache dir and makes it a git repository with one commit. Idempotent: an existing checkout is reused.
#
# Usage: scripts/fetch-toolz.sh [DEST]   (prints the checkout path)
# DEST defaults to $SWE_SELFPLAY_CACHE_DIR/toolz/src, where SWE_SELFPLAY_CACHE_DIR defaults to <project>/.cache.
# apt runs with a private configuration (its own deb-src list, lists and cache) so the machine's apt is untouched.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/.." && pwd)"
# shellcheck source=lib/apt-mirror.sh
. "$here/lib/apt-mirror.sh"

cache="${SWE_SELFPLAY_CACHE_DIR:-$project/.cache}"
dest="${1:-$cache/toolz/src}"
log() { echo "[fetch-toolz] $*" >&2; }

# Concurrent callers (parallel test workers) wait for one fetch instead of racing.
mkdir -p "$cache"
exec 9> "$cache/.toolz.lock"
flock 9

if [ -f "$dest/.git/swe-selfplay-version" ] && git -C "$dest" rev-parse --verify -q HEAD >/dev/null; then
  echo "$dest"
  exit 0
fi

command -v dpkg-source >/dev/null || { echo "dpkg-source is missing: apt-get install -y dpkg-dev" >&2; exit 2; }

mirror="$(debian_mirror)"
suite="$(debian_suite)"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || { echo "$keyring is missing: apt-get install -y debian-archive-keyring" >&2; exit 2; }

apt_dir="$cache/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite" > "$apt_dir/sources.list"
apt_options=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir"
  -o "Dir::Cache::archives=$apt_dir/archives"
  -o "Debug::NoLocking=true"
  -o "APT::Sandbox::User=root"
)

log "updating the private deb-src list for $suite"
apt-get "${apt_options[@]}" -qq update >&2

work="$(mktemp -d "${TMPDIR:-/tmp}/swe-selfplay-toolz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "apt-get source toolz"
(cd "$work" && apt-get "${apt_options[@]}" -qq source toolz >&2)
unpacked="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'toolz-*' | head -n 1)"
[ -n "$unpacked" ] || { echo "apt-get source toolz produced no toolz-* directory in $work" >&2; exit 2; }
version="$(basename "$unpacked")"
# Quilt bookkeeping is packaging state, not part of the library.
rm -rf "$unpacked/.pc"
# bench/ holds benchmarks that download a corpus at import time; sandboxes have no network, so they only fail.
rm -rf "$unpacked/bench"

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$unpacked" "$dest"
git -C "$dest" init -q -b main
# Everything the source package ships belongs to the repository, even what its .gitignore names.
git -C "$dest" add -A --force
git -C "$dest" -c user.name=swe-selfplay -c user.email=swe-selfplay@localhost commit -q -m "Import $version from Debian source packages"
# Written last: its presence marks a complete checkout.
echo "$version" > "$dest/.git/swe-selfplay-version"
log "toolz $version at $dest"
echo "$dest"
