"""Reads Mocha's JSON reporter output (written to a file and printed between `@@swe-selfplay json-begin`
and `@@swe-selfplay json-end`) on stdin and prints {test_id: status} as JSON.

A test id is the test file's path relative to the repository root (announced by `@@swe-selfplay root
PATH`), then " > ", then Mocha's full title (suite and test titles joined by spaces). A failing hook is
reported as a failed entry under its own title. Standard library only.
"""
import json
import os
import re
import sys


def extract_report(text):
    match = re.search(r"^@@swe-selfplay json-begin\s*$(.*?)^@@swe-selfplay json-end\s*$", text, re.S | re.M)
    candidates = [match.group(1)] if match else []
    candidates += [text[m.start():] for m in re.finditer(r"^\{", text, re.M)]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        try:
            report, _ = decoder.raw_decode(candidate.strip())
        except ValueError:
            continue
        if isinstance(report, dict) and "stats" in report and "tests" in report:
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
    report = extract_report(text) or {}
    results = {}
    # Later lists override earlier ones: every test, then its definite outcome.
    for key, status in (("tests", "failed"), ("pending", "skipped"), ("passes", "passed"), ("failures", "failed")):
        for test in report.get(key, []):
            file = relative(test.get("file") or "", root)
            title = test.get("fullTitle") or test.get("title") or ""
            test_id = file + " > " + title if file else title
            if key == "tests" and test_id in results:
                continue
            results[test_id] = status
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
