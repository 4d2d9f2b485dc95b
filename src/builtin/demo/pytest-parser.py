"""Reads `pytest -v` output on stdin and prints {test_id: status} as JSON."""
import json
import re
import sys

STATUS = {"PASSED": "passed", "XPASS": "passed", "FAILED": "failed", "ERROR": "error", "SKIPPED": "skipped", "XFAIL": "skipped"}
LINE = re.compile(r"^(\S.*?::.*?) (PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)(?:\s|$)")
results = {}
for line in sys.stdin:
    match = LINE.match(line.rstrip())
    if match:
        results[match.group(1)] = STATUS[match.group(2)]
print(json.dumps(results, sort_keys=True))
