#!/usr/bin/env bash
# Runs the pytest suite from the repository root: one verbose line per test, then the -rA summary.
cd {{workdir}} || exit 2
exec 2>&1
export PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0
{{python}} -m pytest -rA -v --tb=short --color=no -p no:cacheprovider --continue-on-collection-errors --rootdir={{workdir}}{{arguments}}
