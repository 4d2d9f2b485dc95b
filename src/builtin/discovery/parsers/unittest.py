"""Reads `python -m unittest discover -v` output on stdin and prints {test_id: status} as JSON.

The test script runs discovery once per top-level directory and announces each with a line
`@@swe-selfplay unittest-top DIR`. Test ids have pytest's shape, `DIR/module/path.py::Class::test_name`,
so they read the same whatever runner produced them. A test whose subtests fail is failed; a module that
fails to import is one "error" entry named by its file. Standard library only.
"""
import json
import re
import sys

TOP = re.compile(r"^@@swe-selfplay unittest-top (.+)$")
HEADER = re.compile(r"^(?P<indent>\s*)(?P<name>\w+) \((?P<where>[\w.]+)\)(?P<params> \(.*?\))?(?: \.\.\. (?P<rest>.*))?$")
TRAILING_STATUS = re.compile(r"(?:^|\.\.\. )(?P<status>ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)\s*$")


def status_of(text):
    text = text.strip()
    if text == "ok" or text == "unexpected success":
        return "passed"
    if text == "FAIL":
        return "failed"
    if text == "ERROR":
        return "error"
    if text.startswith("skipped") or text == "expected failure":
        return "skipped"
    return None


def module_file(top, module):
    path = module.replace(".", "/") + ".py"
    return path if top in ("", ".") else top.rstrip("/") + "/" + path


def test_id(top, name, where):
    if where.startswith("unittest.loader._Failed"):
        return module_file(top, name)  # the module named `name` failed to import
    if where.endswith("." + name):
        where = where[: -len(name) - 1]  # Python 3.11+ repeats the method name
    module, _, cls = where.rpartition(".")
    if not module:
        return module_file(top, cls) + "::" + name
    return module_file(top, module) + "::" + cls + "::" + name


def main():
    results = {}
    top = "."
    pending = None  # id of the test whose outcome has not been printed yet
    subtest_failed = False
    in_report = False

    def settle(status):
        nonlocal pending, subtest_failed
        if pending is not None:
            results[pending] = status
        pending = None
        subtest_failed = False

    for raw in sys.stdin.read().splitlines():
        line = raw.rstrip("\r")
        marker = TOP.match(line)
        if marker:
            if pending is not None and subtest_failed:
                settle("failed")
            pending, in_report = None, False
            top = marker.group(1).strip()
            continue
        if in_report:
            continue
        if line.startswith("=" * 20) or line.startswith("-" * 20):
            if pending is not None and subtest_failed:
                settle("failed")
            pending, in_report = None, True
            continue
        header = HEADER.match(line)
        if header and not header.group("indent"):
            if pending is not None and subtest_failed:
                settle("failed")
            pending, subtest_failed = test_id(top, header.group("name"), header.group("where")), False
            status = status_of(header.group("rest") or "")
            if status:
                settle(status)
            continue
        if header and header.group("params") is not None:
            # An indented subtest result under the pending test.
            if status_of(header.group("rest") or "") in ("failed", "error"):
                subtest_failed = True
            continue
        if pending is not None:
            trailing = TRAILING_STATUS.search(line)
            if trailing:
                settle("failed" if subtest_failed else status_of(trailing.group("status")))
    if pending is not None and subtest_failed:
        settle("failed")
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
