#!/usr/bin/env bash
# Runs unittest discovery once per top-level test directory, announcing each so ids can name files.
cd {{workdir}} || exit 2
exec 2>&1
export PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0
for top in {{directories}}; do
  echo "@@swe-selfplay unittest-top $top"
  {{python}} -m unittest discover -v -b -s "$top" -t "$top" -p 'test*.py'
done
