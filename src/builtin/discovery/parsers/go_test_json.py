"""Reads `go test -json ./...` output on stdin and prints {test_id: status} as JSON.

A test id is the package directory relative to the module root ("." for the root package), "::", then
the test name as go prints it (`TestName/subtest_name`). The module path comes from a line
`@@swe-selfplay go-module PATH` printed by the test script. Tests of a package that fails to build do
not appear. Standard library only.
"""
import json
import re
import sys

STATUS = {"pass": "passed", "fail": "failed", "skip": "skipped"}


def directory(package, module):
    if module and package == module:
        return "."
    if module and package.startswith(module + "/"):
        return package[len(module) + 1:]
    return package


def main():
    text = sys.stdin.read()
    module_match = re.search(r"^@@swe-selfplay go-module (\S+)\s*$", text, re.M)
    module = module_match.group(1) if module_match else ""
    results = {}
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict) or not event.get("Test") or event.get("Action") not in STATUS:
            continue
        test_id = directory(event.get("Package", ""), module) + "::" + event["Test"]
        results[test_id] = STATUS[event["Action"]]
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
