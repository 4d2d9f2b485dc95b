#!/usr/bin/env bash
# Runs every Cargo test target offline, continuing past failing targets.
cd {{workdir}} || exit 2
exec 2>&1
export CARGO_NET_OFFLINE=true CARGO_TERM_COLOR=never RUST_BACKTRACE=0
# Build output inside the repository would show up in diffs unless git ignores it.
if ! git check-ignore -q target 2>/dev/null; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/swe-selfplay-cargo-target}"
fi
cargo test --no-fail-fast{{arguments}}
