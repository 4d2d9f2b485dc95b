"""Reads `node --test --test-reporter=tap` output on stdin and prints {test_id: status} as JSON.

The test script runs one test file at a time and announces it with a line `@@swe-selfplay file PATH`.
A test id is that path followed by the names from the outermost suite to the test, joined by " > ".
Suites (`type: 'suite'`) are not tests; a test with subtests is. Older runners wrap a file's tests in a
subtest named by the file's absolute path: that level is dropped. Standard library only.
"""
import json
import re
import sys

FILE_MARKER = re.compile(r"^@@swe-selfplay file (.+)$")
SUBTEST = re.compile(r"^(?P<indent> *)# Subtest: (?P<name>.*)$")
RESULT = re.compile(r"^(?P<indent> *)(?P<verdict>ok|not ok) \d+(?: - (?P<rest>.*))?$")
DIRECTIVE = re.compile(r"^(?P<name>.*?)(?: # (?P<directive>SKIP|TODO)\b.*)?$", re.IGNORECASE)
SUITE_TYPE = re.compile(r"^ *type: '?suite'?\s*$")
INDENT = 4


def unescape(name):
    out = []
    index = 0
    while index < len(name):
        char = name[index]
        if char == "\\" and index + 1 < len(name):
            following = name[index + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r"}.get(following, following))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def main():
    results = {}
    current_file = None
    names = []  # open subtest names by nesting level
    pending = None  # id of the last result, until its YAML block says whether it is a suite
    wrapped = False  # the current file's tests sit inside a subtest named by its absolute path
    for raw in sys.stdin.read().splitlines():
        line = raw.rstrip("\r")
        marker = FILE_MARKER.match(line)
        if marker:
            current_file = marker.group(1).strip()
            names = []
            pending = None
            wrapped = False
            continue
        if pending and SUITE_TYPE.match(line):
            results.pop(pending, None)
            pending = None
            continue
        subtest = SUBTEST.match(line)
        if subtest:
            level = len(subtest.group("indent")) // INDENT
            name = unescape(subtest.group("name"))
            if level == 0 and current_file and name.startswith("/") and name.endswith("/" + current_file):
                wrapped = True
                names = []
                continue
            level -= 1 if wrapped else 0
            if level < 0:
                continue
            del names[level:]
            names.append(name)
            continue
        result = RESULT.match(line)
        if not result:
            continue
        level = len(result.group("indent")) // INDENT - (1 if wrapped else 0)
        if level < 0:
            continue  # the file wrapper's own result
        parsed = DIRECTIVE.match(result.group("rest") or "")
        name = unescape(parsed.group("name").strip()) if parsed else ""
        path = names[:level] + [name]
        del names[level:]
        test_id = " > ".join(([current_file] if current_file else []) + path)
        directive = (parsed.group("directive") or "").upper() if parsed else ""
        if directive in ("SKIP", "TODO"):
            status = "skipped"
        else:
            status = "passed" if result.group("verdict") == "ok" else "failed"
        results[test_id] = status
        pending = test_id
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
