// Known valid bug artifacts for the two fixture repositories (examples/NAME/artifact/), and helpers
// that derive broken variants, each made to fail one consistency check.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { examplesRoot } from "../../src/examples/build.js";
import type { ArtifactMeta, BugArtifact } from "../../src/ports/artifact.js";
import { NODE_FIXTURE, PYTHON_FIXTURE } from "./fixture-repos.js";

export interface FixtureExpectation {
  /** Tests that pass on the original and fail with the bug (exact ids printed by the parser). */
  f2p: string[];
  /** Per bug file, the F2P tests that pass again when that file alone is reverted. */
  fileContributions: { file: string; restoredTests: string[] }[];
  /** Number of tests on the original code, all passing. */
  baselineTests: number;
}

/** The valid artifact for the Python fixture (makePythonFixtureRepo): two bug files, two weakened tests. */
export function pythonFixtureArtifact(): BugArtifact {
  return readExampleArtifact(PYTHON_FIXTURE);
}

/** The valid artifact for the JavaScript fixture (makeNodeFixtureRepo): two bug files, three weakened tests. */
export function nodeFixtureArtifact(): BugArtifact {
  return readExampleArtifact(NODE_FIXTURE);
}

export const PYTHON_FIXTURE_EXPECTATION: FixtureExpectation = {
  f2p: [
    "tests/test_case.py::test_to_title_capitalizes_last_small_word",
    "tests/test_wrap.py::test_center_odd_padding_goes_right",
  ],
  fileContributions: [
    {
      file: "inkwell/case.py",
      restoredTests: ["tests/test_case.py::test_to_title_capitalizes_last_small_word"],
    },
    { file: "inkwell/wrap.py", restoredTests: ["tests/test_wrap.py::test_center_odd_padding_goes_right"] },
  ],
  baselineTests: 92,
};

export const NODE_FIXTURE_EXPECTATION: FixtureExpectation = {
  f2p: [
    "formatDuration short style > carries a rounded remainder into larger units",
    "formatDuration short style > rounds the remainder into the last unit",
    "interval > contains its start but not its end",
  ],
  fileContributions: [
    {
      file: "src/format.js",
      restoredTests: [
        "formatDuration short style > carries a rounded remainder into larger units",
        "formatDuration short style > rounds the remainder into the last unit",
      ],
    },
    { file: "src/intervals.js", restoredTests: ["interval > contains its start but not its end"] },
  ],
  baselineTests: 53,
};

/** The artifact stored in examples/NAME/artifact/ (canonical file names). */
export function readExampleArtifact(name: string): BugArtifact {
  const directory = join(examplesRoot(), name, "artifact");
  const read = (file: string) => readFileSync(join(directory, file), "utf8");
  return {
    testScript: read("test_script.sh"),
    testFiles: read("test_files.txt")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== ""),
    testParser: read("test_parser.py"),
    bugInjectDiff: read("bug_inject.diff"),
    testWeakenDiff: read("test_weaken.diff"),
    meta: JSON.parse(read("meta.json")) as ArtifactMeta,
  };
}

function brokenDiff(artifact: BugArtifact, file: string): string {
  return readFileSync(join(examplesRoot(), artifact.meta.environment, "broken", file), "utf8");
}

function newFileDiff(path: string, lines: string[], mode = "100644"): string {
  const body = lines.map((line) => `+${line}\n`).join("");
  return (
    `diff --git a/${path} b/${path}\nnew file mode ${mode}\n--- /dev/null\n+++ b/${path}\n` +
    `@@ -0,0 +1,${lines.length} @@\n${body}`
  );
}

/**
 * Check 7 (inverse mutation): the bug also creates a file that changes no test outcome, so reverting
 * it alone restores no F2P test.
 */
export function withExtraIrrelevantFile(artifact: BugArtifact, path = "NOTES.txt"): BugArtifact {
  return { ...artifact, bugInjectDiff: artifact.bugInjectDiff + newFileDiff(path, ["a file no test reads"]) };
}

/** Check 0/1: the weakening touches a test file that is not listed in test_files.txt. */
export function withWeakeningOutsideOracle(artifact: BugArtifact): BugArtifact {
  const weakened = new Set(diffPaths(artifact.testWeakenDiff));
  return { ...artifact, testFiles: artifact.testFiles.filter((file) => !weakened.has(file)) };
}

/** Check 0: the weakening also changes a code file (not an oracle test file). */
export function withWeakeningTouchingCode(artifact: BugArtifact, path = "weakening_helper.txt"): BugArtifact {
  return { ...artifact, testWeakenDiff: artifact.testWeakenDiff + newFileDiff(path, ["not a test"]) };
}

/** Check 0: the bug diff touches an oracle test file (here: it carries the weakening too). */
export function withBugTouchingOracle(artifact: BugArtifact): BugArtifact {
  return { ...artifact, bugInjectDiff: artifact.bugInjectDiff + artifact.testWeakenDiff };
}

/** Check 1: test_files.txt names a file that does not exist in the original. */
export function withMissingOracleFile(artifact: BugArtifact, path = "tests/test_missing.py"): BugArtifact {
  return { ...artifact, testFiles: [...artifact.testFiles, path] };
}

/** Check 0: the bug diff writes outside the repository through "..". */
export function withPathTraversal(artifact: BugArtifact): BugArtifact {
  return { ...artifact, bugInjectDiff: artifact.bugInjectDiff + newFileDiff("../escaped.txt", ["outside"]) };
}

/** Check 0: the bug diff names an absolute path. */
export function withAbsolutePath(artifact: BugArtifact): BugArtifact {
  const diff =
    "diff --git a//outside/absolute.txt b//outside/absolute.txt\nnew file mode 100644\n--- /dev/null\n" +
    "+++ b//outside/absolute.txt\n@@ -0,0 +1 @@\n+outside\n";
  return { ...artifact, bugInjectDiff: artifact.bugInjectDiff + diff };
}

/**
 * Check 0: the bug diff creates a symlink pointing out of the repository and then writes a file
 * through it.
 */
export function withSymlinkEscape(artifact: BugArtifact): BugArtifact {
  const link =
    "diff --git a/escape b/escape\nnew file mode 120000\n--- /dev/null\n+++ b/escape\n" +
    "@@ -0,0 +1 @@\n+../../..\n\\ No newline at end of file\n";
  return {
    ...artifact,
    bugInjectDiff: artifact.bugInjectDiff + link + newFileDiff("escape/written.txt", ["x"]),
  };
}

/** Check 5 (bug): the parser reports every test as passed, so no test fails with the bug. */
export function withAllPassingParser(artifact: BugArtifact): BugArtifact {
  const printing = "print(json.dumps(results, sort_keys=True))";
  if (!artifact.testParser.includes(printing)) {
    throw new Error(`withAllPassingParser: the parser has no line "${printing}" to replace`);
  }
  const testParser = artifact.testParser.replace(
    printing,
    'print(json.dumps({test_id: "passed" for test_id in results}, sort_keys=True))',
  );
  return { ...artifact, testParser };
}

/** Check 2 (parser): the parser prints something that is not JSON. */
export function withNonJsonParser(artifact: BugArtifact): BugArtifact {
  return { ...artifact, testParser: 'import sys\nsys.stdin.read()\nprint("all good")\n' };
}

/** Check 2 (parser): the parser prints an empty object. */
export function withEmptyParser(artifact: BugArtifact): BugArtifact {
  return { ...artifact, testParser: 'import sys\nsys.stdin.read()\nprint("{}")\n' };
}

/** Check 2 (parser): the parser crashes. */
export function withCrashingParser(artifact: BugArtifact): BugArtifact {
  return { ...artifact, testParser: 'raise SystemExit("parser broke on purpose")\n' };
}

/** Timeouts: the test script never ends (a background child too, to test that the whole tree dies). */
export function withHangingScript(artifact: BugArtifact): BugArtifact {
  return { ...artifact, testScript: "#!/usr/bin/env bash\nsleep 3600 &\nsleep 3600\n" };
}

/** Check 5 (bug): a syntax error breaks every test, so no test still passes (P2P empty). */
export function withSyntaxErrorBug(artifact: BugArtifact): BugArtifact {
  return { ...artifact, bugInjectDiff: brokenDiff(artifact, "syntax-error.diff") };
}

/** Check 6 (weakening): the weakening removes an unrelated passing test instead of the failing ones. */
export function withUnrelatedWeakening(artifact: BugArtifact): BugArtifact {
  return { ...artifact, testWeakenDiff: brokenDiff(artifact, "weakening-unrelated.diff") };
}

/** Check 0 (applies): the bug diff's first context line is changed, so the diff no longer applies. */
export function withNonApplyingBug(artifact: BugArtifact): BugArtifact {
  const lines = artifact.bugInjectDiff.split("\n");
  const index = lines.findIndex(
    (line, position) => position > 0 && line.startsWith(" ") && line.trim() !== "",
  );
  if (index < 0) throw new Error("withNonApplyingBug: the bug diff has no context line to change");
  lines[index] = `${lines[index]} # changed`;
  return { ...artifact, bugInjectDiff: lines.join("\n") };
}

/** Only the first file of the bug diff: a valid one-file bug with the default thresholds; fails check 4 (scope) when `minChangedFiles` is 2. */
export function withSingleBugFile(artifact: BugArtifact): BugArtifact {
  const sections = artifact.bugInjectDiff.split(/(?=^diff --git )/m).filter((section) => section !== "");
  return { ...artifact, bugInjectDiff: sections[0] ?? "" };
}

/** Check 4 (scope): the bug diff is empty. */
export function withEmptyBug(artifact: BugArtifact): BugArtifact {
  return { ...artifact, bugInjectDiff: "" };
}

/** The same artifact with other provenance (the id must not change: meta is not part of it). */
export function withMeta(artifact: BugArtifact, meta: Partial<ArtifactMeta>): BugArtifact {
  return { ...artifact, meta: { ...artifact.meta, ...meta } };
}

/** Paths named on the "diff --git" lines of a diff (b/ side), in order. */
function diffPaths(diff: string): string[] {
  const paths: string[] = [];
  for (const match of diff.matchAll(/^diff --git a\/(\S+) b\/(\S+)$/gm)) paths.push(match[2]!);
  return paths;
}
