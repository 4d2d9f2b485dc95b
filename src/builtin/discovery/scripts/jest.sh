#!/usr/bin/env bash
# Runs the Jest suite from the repository root and prints its JSON report between markers.
cd {{workdir}} || exit 2
exec 2>&1
report="$(mktemp)"
echo "@@swe-selfplay root {{workdir}}"
{{environment}}{{binary}}{{arguments}} --ci --watchAll=false --json --outputFile="$report"
echo "@@swe-selfplay json-begin"
# Only names and outcomes are printed: failure messages of a large suite could exceed the output cap.
node -e '
  const report = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const keep = (suite) => ({ name: suite.name, status: suite.status,
    assertionResults: (suite.assertionResults || []).map((test) =>
      ({ ancestorTitles: test.ancestorTitles, title: test.title, status: test.status })) });
  process.stdout.write(JSON.stringify({ testResults: (report.testResults || []).map(keep) }));
' "$report" 2>/dev/null || cat "$report"
echo
echo "@@swe-selfplay json-end"
rm -f "$report"
