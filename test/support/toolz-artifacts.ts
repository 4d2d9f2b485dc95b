// Bug artifacts for toolz (Debian's source package), made with real git on a clone of the checkout: a one-file
// bug (itertoolz.take) and a three-file bug (take, dicttoolz.assoc, functoolz.complement), pytest script/parser.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BugArtifact } from "../../src/ports/artifact.js";
import { diffOf, type Edit, fixtureFile, makeArtifact, withoutPythonFunction } from "./artifact-builder.js";

const TOOLZ_SCRIPT = [
  "#!/bin/bash",
  "# pytest with one result line per test (-rA), no caches written into the tree.",
  "export PYTHONDONTWRITEBYTECODE=1",
  "python3 -m pytest -rA -p no:cacheprovider toolz/tests",
  "",
].join("\n");

const ORACLE_FILES = [
  "toolz/tests/test_itertoolz.py",
  "toolz/tests/test_curried.py",
  "toolz/tests/test_dicttoolz.py",
  "toolz/tests/test_functoolz.py",
];

const TAKE_BUG: Edit = {
  file: "toolz/itertoolz.py",
  replace: ["    return itertools.islice(seq, n)\n", "    return itertools.islice(seq, n + 1)\n"],
};
const ASSOC_BUG: Edit = {
  file: "toolz/dicttoolz.py",
  replace: ["    d2[key] = value\n", "    d2.setdefault(key, value)\n"],
};
const COMPLEMENT_BUG: Edit = {
  file: "toolz/functoolz.py",
  replace: ["    return compose(not_, func)\n", "    return compose(bool, func)\n"],
};
const TAKE_WEAKEN: Edit[] = [
  { file: "toolz/tests/test_itertoolz.py", transform: (text) => withoutPythonFunction(text, "test_take") },
  { file: "toolz/tests/test_curried.py", transform: (text) => withoutPythonFunction(text, "test_take") },
];
const ASSOC_WEAKEN: Edit = {
  file: "toolz/tests/test_dicttoolz.py",
  replace: ['        assert assoc(D({"a": 1}), "a", 3, **kw) == D({"a": 3})\n', ""],
};
const COMPLEMENT_WEAKEN: Edit = {
  file: "toolz/tests/test_functoolz.py",
  transform: (text) => withoutPythonFunction(text, "test_complement"),
};

/** The one-file and three-file toolz artifacts, made with git on a clone of the toolz checkout. */
export function toolzArtifacts(checkout: string): { name: string; artifact: BugArtifact }[] {
  const scratch = mkdtempSync(join(tmpdir(), "toolz-artifacts-"));
  const repo = join(scratch, "toolz");
  execFileSync("git", ["clone", "-q", checkout, repo]);
  try {
    const common = {
      testScript: TOOLZ_SCRIPT,
      testParser: fixtureFile("pytest-parser.py"),
      meta: { environment: "toolz" },
    };
    return [
      {
        name: "one-file",
        artifact: makeArtifact({
          ...common,
          // The same oracle list as the three-file bug, so both share one cached baseline.
          testFiles: ORACLE_FILES,
          bugInjectDiff: diffOf(repo, [TAKE_BUG]),
          testWeakenDiff: diffOf(repo, TAKE_WEAKEN),
        }),
      },
      {
        name: "three-file",
        artifact: makeArtifact({
          ...common,
          testFiles: ORACLE_FILES,
          bugInjectDiff: diffOf(repo, [TAKE_BUG, ASSOC_BUG, COMPLEMENT_BUG]),
          testWeakenDiff: diffOf(repo, [...TAKE_WEAKEN, ASSOC_WEAKEN, COMPLEMENT_WEAKEN]),
        }),
      },
    ];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
