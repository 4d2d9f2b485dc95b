"""Reads tape's TAP output on stdin and prints {test_id: status} as JSON.

The test script runs one test file at a time and announces it with a line `@@swe-selfplay file PATH`.
tape prints each test's name as a comment (`# name`), then that test's assertions (`ok N msg`,
`not ok N msg`); a test passes when none of its assertions failed (tests that assert nothing pass when
they end). Output that stops before the plan line (`1..N`) means the process died: the test that was
running fails, and the tests after it are missing. A test id is the file's path and the test's name joined by " > ". After the plan line (`1..N`)
the comments are tape's totals, not tests. Standard library only.
"""
import json
import re
import sys

FILE_MARKER = re.compile(r"^@@swe-selfplay file (.+)$")
HEADER = re.compile(r"^# (?P<name>.+)$")
ASSERTION = re.compile(r"^(?P<verdict>ok|not ok) \d+(?: (?P<message>.*))?$")
TODO = re.compile(r"# (TODO|SKIP)\b", re.IGNORECASE)
PLAN = re.compile(r"^1\.\.\d+")
NOT_ENDED = re.compile(r"^test exited without ending: (?P<name>.+?)(?: # .*)?$")


def main():
    results = {}
    current_file = None
    current = None  # id of the test whose assertions follow
    after_plan = False

    def test_id(name):
        return " > ".join(([current_file] if current_file else []) + [name])

    def fail(identifier):
        results[identifier] = "failed"

    def close_file():
        # Output that stops before the plan line: the process died inside the test that was running.
        if current and not after_plan:
            fail(current)

    for raw in sys.stdin.read().splitlines():
        line = raw.rstrip("\r")
        marker = FILE_MARKER.match(line)
        if marker:
            close_file()
            current_file = marker.group(1).strip()
            current = None
            after_plan = False
            continue
        if PLAN.match(line):
            after_plan = True
            continue
        header = HEADER.match(line)
        if header and not after_plan:
            current = test_id(header.group("name").strip())
            results.setdefault(current, "passed")
            continue
        assertion = ASSERTION.match(line)
        if not assertion or assertion.group("verdict") == "ok":
            continue
        message = (assertion.group("message") or "").lstrip("- ").strip()
        if TODO.search(message):
            continue
        not_ended = NOT_ENDED.match(message)
        if not_ended:
            fail(test_id(not_ended.group("name").strip()))
        elif current:
            fail(current)
    close_file()
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
