"""Reads `pytest -v -rfEspxX` (or `-rA`) output on stdin and prints {test_id: status} as JSON.

Test ids are pytest node ids (`tests/test_x.py::TestClass::test_name[params]`). Verbose lines give every
test's outcome; the short summary confirms them and adds errors (setup, teardown, collection).
A test that passes but errors in teardown counts as an error. Standard library only.
"""
import json
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
OUTCOMES = ("PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL", "XPASS")
STATUS = {
    "PASSED": "passed",
    "XPASS": "passed",
    "FAILED": "failed",
    "ERROR": "error",
    "SKIPPED": "skipped",
    "XFAIL": "skipped",
}
# Worse outcomes win when one test reports several (call, then teardown).
RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
VERBOSE = re.compile(r"^(?P<id>\S.*?::.*?) (?P<outcome>PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)(?:\s|$)")
# With pytest-xdist (`-n` in addopts) verbose lines name the worker and put the outcome first.
XDIST = re.compile(r"^\[gw\d+\] \[\s*\d+%\] (?P<outcome>PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS) (?P<id>\S.*?::.*?)\s*$")
SUMMARY = re.compile(r"^(?P<outcome>PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS) (?P<rest>.*)$")


def record(results, test_id, status):
    previous = results.get(test_id)
    if previous is None or RANK[status] > RANK[previous]:
        results[test_id] = status


def summary_id(rest, known):
    """The node id at the start of a summary line (`id - message` or just `id`)."""
    for test_id in known:
        if rest == test_id or rest.startswith(test_id + " "):
            return test_id
    if rest.startswith("["):
        return None  # `SKIPPED [1] file.py:12: reason` names no test
    return rest.split(" - ", 1)[0].strip()


def main():
    results = {}
    in_summary = False
    summary = []
    for raw in sys.stdin.read().splitlines():
        line = ANSI.sub("", raw).rstrip()
        if re.match(r"^=+ short test summary info =+$", line):
            in_summary = True
            continue
        if in_summary:
            if line.startswith("="):
                in_summary = False
                continue
            match = SUMMARY.match(line)
            if match:
                summary.append((match.group("outcome"), match.group("rest")))
            continue
        match = VERBOSE.match(line) or XDIST.match(line)
        if match:
            record(results, match.group("id").strip(), STATUS[match.group("outcome")])
    known = sorted(results, key=len, reverse=True)
    for outcome, rest in summary:
        test_id = summary_id(rest, known)
        if test_id:
            record(results, test_id, STATUS[outcome])
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
