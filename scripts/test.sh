#!/usr/bin/env bash
# The project's test command: set up what is missing (scripts/setup.sh), then typecheck, lint and run every
# test (npm test). REQUIRE_DOCKER=1 makes Docker tests fail instead of skipping when no engine answers.
# Extra arguments go to vitest (e.g. a test file path).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup.sh"
cd "$here/.."
if [ "$#" -gt 0 ]; then
  npx vitest run "$@"
else
  npm test
fi
