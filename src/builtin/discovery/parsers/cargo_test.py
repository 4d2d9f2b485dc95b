"""Reads `cargo test --no-fail-fast` output on stdin and prints {test_id: status} as JSON.

A test id is the test target's source file (from cargo's `Running unittests src/lib.rs (...)` or
`Running tests/x.rs (...)` lines), "::", then libtest's test path (`tests::it_works`). Doc-tests get
"doc::" and libtest's name (`doc::src/lib.rs - add (line 5)`). Standard library only.
"""
import json
import re
import sys

RUNNING = re.compile(r"^\s*Running (?:unittests )?(?P<source>\S+?\.rs)\b")
RUNNING_BINARY = re.compile(r"^\s*Running (?P<binary>\S+)")
DOC_TESTS = re.compile(r"^\s*Doc-tests (?P<crate>\S+)")
RESULT = re.compile(r"^test (?P<name>.+?)(?: - should panic)? \.\.\. (?P<outcome>ok|FAILED|ignored|failed)\b")
STATUS = {"ok": "passed", "FAILED": "failed", "failed": "failed", "ignored": "skipped"}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def main():
    results = {}
    target = ""
    for raw in sys.stdin.read().splitlines():
        line = ANSI.sub("", raw).rstrip()
        running = RUNNING.match(line)
        if running:
            target = running.group("source")
            continue
        binary = RUNNING_BINARY.match(line)
        if binary:
            # Old cargo names only the binary: drop its hash so ids stay stable across builds.
            target = re.sub(r"-[0-9a-f]{16}$", "", binary.group("binary").rsplit("/", 1)[-1])
            continue
        if DOC_TESTS.match(line):
            target = "doc"
            continue
        result = RESULT.match(line)
        if result:
            test_id = (target + "::" if target else "") + result.group("name").strip()
            results[test_id] = STATUS[result.group("outcome")]
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
