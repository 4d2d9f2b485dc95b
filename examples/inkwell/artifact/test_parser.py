"""Reads pytest output (-v) on stdin and prints {test_id: status} as one JSON object."""
import json
import re
import sys

# Verbose progress lines: "tests/test_a.py::test_b[x y] PASSED  [ 10%]", "... SKIPPED (reason)  [ 20%]".
# The summary at the end repeats failures with " - message" suffixes that cannot be told apart from
# parameter ids, so only progress lines count.
VERBOSE = re.compile(r"^(\S+?\.py::.+?) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)(?: .*)?$")

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
        if not match:
            continue
        test_id, word = match.group(1), match.group(2)
        status = STATUS[word]
        previous = results.get(test_id)
        if previous is None or RANK[status] > RANK[previous]:
            results[test_id] = status
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
