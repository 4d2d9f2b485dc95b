#!/usr/bin/env bash
# Runs the Mocha suite from the repository root and prints its JSON report between markers.
cd {{workdir}} || exit 2
exec 2>&1
report="$(mktemp)"
echo "@@swe-selfplay root {{workdir}}"
{{environment}}{{binary}}{{arguments}} --reporter json --reporter-option "output=$report"
echo "@@swe-selfplay json-begin"
# Only names and outcomes are printed: failure messages of a large suite could exceed the output cap.
node -e '
  const report = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const keep = (list) => (list || []).map((test) => ({ title: test.title, fullTitle: test.fullTitle, file: test.file }));
  process.stdout.write(JSON.stringify({ stats: report.stats, tests: keep(report.tests), pending: keep(report.pending),
    failures: keep(report.failures), passes: keep(report.passes) }));
' "$report" 2>/dev/null || cat "$report"
echo
echo "@@swe-selfplay json-end"
rm -f "$report"
