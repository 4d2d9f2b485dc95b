#!/usr/bin/env bash
# Runs every Go package's tests (no result cache, no network) as JSON events, module path first.
cd {{workdir}} || exit 2
exec 2>&1
export GOPROXY=off GOTOOLCHAIN=local
# The default build cache lives in $HOME, which a sandbox may not let us write.
cache="$(go env GOCACHE 2>/dev/null)"
if [ -z "$cache" ] || ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  export GOCACHE=/tmp/swe-selfplay-go-cache
fi
echo "@@swe-selfplay go-module $(go list -m 2>/dev/null | head -n 1)"
go test -json -count=1 ./...
