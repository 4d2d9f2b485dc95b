"""Reads Jest or Vitest JSON results (`--json`/`--reporter=json` written to a file and printed between
`@@swe-selfplay json-begin` and `@@swe-selfplay json-end`) on stdin and prints {test_id: status} as JSON.

A test id is the test file's path relative to the repository root (announced by `@@swe-selfplay root
PATH`), then the describe titles and the test title, joined by " > ". A file that fails to load becomes
one "error" entry named by its path. Standard library only.
"""
import json
import os
import re
import sys

STATUS = {
    "passed": "passed",
    "failed": "failed",
    "pending": "skipped",
    "skipped": "skipped",
    "todo": "skipped",
    "disabled": "skipped",
    "focused": "passed",
}


def extract_report(text):
    match = re.search(r"^@@swe-selfplay json-begin\s*$(.*?)^@@swe-selfplay json-end\s*$", text, re.S | re.M)
    candidates = [match.group(1)] if match else []
    # Without markers (the report went to stdout), try each line that starts a JSON object.
    candidates += [text[m.start():] for m in re.finditer(r"^\{", text, re.M)]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        try:
            report, _ = decoder.raw_decode(candidate.strip())
        except ValueError:
            continue
        if isinstance(report, dict) and "testResults" in report:
            return report
    return None


def relative(path, root):
    if root and path.startswith(root.rstrip("/") + "/"):
        return path[len(root.rstrip("/")) + 1:]
    if root and os.path.isabs(path):
        return os.path.relpath(path, root)
    return path


def main():
    text = sys.stdin.read()
    root_match = re.search(r"^@@swe-selfplay root (.+)$", text, re.M)
    root = root_match.group(1).strip() if root_match else os.getcwd()
    report = extract_report(text) or {"testResults": []}
    results = {}
    for suite in report.get("testResults", []):
        file = relative(suite.get("name") or suite.get("testFilePath") or "", root)
        assertions = suite.get("assertionResults") or suite.get("testResults") or []
        if not assertions and suite.get("status") == "failed":
            results[file] = "error"
            continue
        for test in assertions:
            names = list(test.get("ancestorTitles") or []) + [test.get("title", "")]
            test_id = " > ".join([file] + names)
            results[test_id] = STATUS.get(test.get("status"), "failed")
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
