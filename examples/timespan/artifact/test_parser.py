"""Reads TAP from `node --test --test-reporter=tap` on stdin and prints {test_id: status} as JSON.

A test id is the path of names from the outermost suite to the test, joined by " > ". Suites (entries
with subtests) are not tests themselves, unless they fail without any subtest result (a failing hook).
"""
import json
import os
import re
import sys

SUBTEST = re.compile(r"^( *)# Subtest: (.*)$")
RESULT = re.compile(r"^( *)(ok|not ok) \d+(?: - (.*?))?(?: # (SKIP|TODO)\b.*)?$")
INDENT = 4


def unescape(name):
    return name.replace("\\#", "#").replace("\\\\", "\\")


def display(name):
    # Older runners wrap each file in a subtest named by its absolute path: keep it repository-relative.
    cwd = os.getcwd().rstrip("/") + "/"
    return name[len(cwd):] if name.startswith(cwd) else name


def main():
    results = {}
    stack = []  # names of the open subtests, one per nesting level
    has_children = []  # whether each open subtest has reported a nested result
    for raw in sys.stdin.read().splitlines():
        match = SUBTEST.match(raw)
        if match:
            level = len(match.group(1)) // INDENT
            del stack[level:]
            del has_children[level:]
            stack.append(display(unescape(match.group(2).strip())))
            has_children.append(False)
            continue
        match = RESULT.match(raw)
        if not match:
            continue
        level = len(match.group(1)) // INDENT
        name = display(unescape((match.group(3) or "").strip()))
        path = stack[:level] + [name]
        if level < len(stack) and stack[level] == name:
            path = stack[: level + 1]
        is_suite = level < len(has_children) and has_children[level]
        for index in range(min(level, len(has_children))):
            has_children[index] = True
        del stack[level:]
        del has_children[level:]
        if is_suite:
            continue
        if match.group(4) is not None:
            status = "skipped"
        else:
            status = "passed" if match.group(2) == "ok" else "failed"
        results[" > ".join(path)] = status
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
