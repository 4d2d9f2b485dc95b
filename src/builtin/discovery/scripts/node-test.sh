#!/usr/bin/env bash
# Runs each test file with Node's built-in runner (TAP), announcing the file first so ids name it.
cd {{workdir}} || exit 2
exec 2>&1
for file in {{files}}; do
  [ -f "$file" ] || continue
  echo "@@swe-selfplay file $file"
  node{{flags}} --test --test-reporter=tap "$file"
done
