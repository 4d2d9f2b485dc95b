#!/usr/bin/env bash
# Runs the Mocha suite from the repository root and prints its JSON report between markers.
cd {{workdir}} || exit 2
exec 2>&1
report="$(mktemp)"
echo "@@swe-selfplay root {{workdir}}"
{{environment}}{{binary}}{{arguments}} --reporter json --reporter-option "output=$report"
echo "@@swe-selfplay json-begin"
cat "$report"
echo
echo "@@swe-selfplay json-end"
rm -f "$report"
