#!/usr/bin/env bash
# Runs the pytest suite from the repository root: one verbose line per test, then a short summary of
# every outcome (without the captured output of passing tests, which can be large).
cd {{workdir}} || exit 2
exec 2>&1
export PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0
{{python}} -m pytest -rfEspxX -v --tb=short --color=no -p no:cacheprovider --continue-on-collection-errors --rootdir={{workdir}}{{arguments}}
