"""Reads pytest output (-v) on stdin and prints {test_id: status} as one JSON object."""
import json
import re
import sys

# "tests/test_a.py::test_b[x y] PASSED   [ 10%]" (verbose progress lines)
VERBOSE = re.compile(r"^(\S+?\.py::.+?) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)(?:\s+\[\s*\d+%\])?\s*$")
# "ERROR tests/test_a.py::test_b - ..." (summary lines, e.g. errors in setup or teardown)
SUMMARY = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+?\.py::.+?)(?: - .*)?$")

STATUS = {
    "PASSED": "passed",
    "XPASS": "passed",
    "FAILED": "failed",
    "ERROR": "error",
    "SKIPPED": "skipped",
    "XFAIL": "skipped",
}
# When one test reports twice (a failing teardown after a pass), the worse outcome wins.
RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def main():
    results = {}
    for raw in sys.stdin.read().splitlines():
        line = raw.rstrip()
        match = VERBOSE.match(line)
        if match:
            test_id, word = match.group(1), match.group(2)
        else:
            match = SUMMARY.match(line)
            if not match:
                continue
            word, test_id = match.group(1), match.group(2)
        status = STATUS[word]
        previous = results.get(test_id)
        if previous is None or RANK[status] > RANK[previous]:
            results[test_id] = status
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
