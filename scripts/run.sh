#!/usr/bin/env bash
# The main job on its built-in default: sets up what is missing (scripts/setup.sh, without Docker, since the
# default job runs in local bubblewrap sandboxes), then runs `swe-selfplay run` with any arguments given.
# With no arguments it plays the whole game on the shipped example library with the built-in offline policy.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SWE_SELFPLAY_NO_DOCKER=1 bash "$here/setup.sh"
exec node "$here/../bin/swe-selfplay.js" run "$@"
