#!/usr/bin/env bash
# Runs each tape test file on its own (TAP), announcing the file first so ids name it.
cd {{workdir}} || exit 2
exec 2>&1
for file in {{files}}; do
  [ -f "$file" ] || continue
  echo "@@swe-selfplay file $file"
  {{environment}}{{binary}}{{arguments}} "$file"
done
