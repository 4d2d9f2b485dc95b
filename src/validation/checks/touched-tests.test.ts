import { describe, expect, it } from "vitest";
import { type Hunk, parseDiff } from "../../artifact/index.js";
import type { TestDefinition } from "../../ports/validation.js";
import { judgeTouchedTests } from "./touched-tests.js";

function hunksOf(diff: string): Hunk[] {
  const parsed = parseDiff(diff);
  if (parsed.status !== "ok") throw new Error(parsed.message);
  return parsed.files[0]!.hunks;
}

const definition = (
  path: string[],
  startLine: number,
  endLine: number,
  testIds: string[],
): TestDefinition => ({
  path,
  startLine,
  endLine,
  testIds,
});

// tests/test_a.py: test_a on lines 1-2, test_b on lines 5-6.
const PYTHON_DEFINITIONS = [
  definition(["test_a"], 1, 2, ["tests/test_a.py::test_a"]),
  definition(["test_b"], 5, 6, ["tests/test_a.py::test_b"]),
];
const REMOVE_A = `diff --git a/tests/test_a.py b/tests/test_a.py
--- a/tests/test_a.py
+++ b/tests/test_a.py
@@ -1,4 +1,0 @@
-def test_a():
-    assert f(1) == 2
-
-
`;
const LOOSEN_B = `diff --git a/tests/test_a.py b/tests/test_a.py
--- a/tests/test_a.py
+++ b/tests/test_a.py
@@ -5,2 +5,2 @@
 def test_b():
-    assert g(1) == 3
+    assert g(1)
`;

describe("judgeTouchedTests", () => {
  it("passes a weakening that only removes or changes F2P tests", () => {
    const verdict = judgeTouchedTests({
      files: [{ file: "tests/test_a.py", hunks: hunksOf(REMOVE_A), definitions: PYTHON_DEFINITIONS }],
      f2p: ["tests/test_a.py::test_a"],
      p2p: ["tests/test_a.py::test_b"],
      weakenedResults: { "tests/test_a.py::test_b": "passed" },
    });
    expect(verdict).toEqual({ status: "passed", evidence: { touchedF2pDefinitions: 1 } });
  });

  it("rejects a change of a P2P test that still passes, naming the test, the file and the hunk", () => {
    const verdict = judgeTouchedTests({
      files: [{ file: "tests/test_a.py", hunks: hunksOf(LOOSEN_B), definitions: PYTHON_DEFINITIONS }],
      f2p: ["tests/test_a.py::test_a"],
      p2p: ["tests/test_a.py::test_b"],
      weakenedResults: { "tests/test_a.py::test_b": "passed" },
    });
    expect(verdict.status).toBe("failed");
    if (verdict.status === "passed") return;
    expect(verdict.reason).toBe(
      "test_weaken.diff edits 1 P2P test(s) the bug does not break: test_b in tests/test_a.py (tests/test_a.py::test_b; hunk @@ -5,2 +5,2 @@ (line 4 of test_weaken.diff)); a weakening may only change F2P tests",
    );
    expect(verdict.evidence.touchedP2p).toEqual([
      {
        file: "tests/test_a.py",
        test: "test_b",
        testIds: ["tests/test_a.py::test_b"],
        hunk: "@@ -5,2 +5,2 @@ (line 4 of test_weaken.diff)",
      },
    ]);
  });

  it("judges the innermost definition: a JS `it` inside a `describe`, an insertion inside a test body", () => {
    // a.test.js: describe "sum" on 1-9 holding `it` "adds" (2-4) and "subtracts" (6-8).
    const definitions = [
      definition(["sum", "adds"], 2, 4, ["a.test.js > sum > adds"]),
      definition(["sum", "subtracts"], 6, 8, ["a.test.js > sum > subtracts"]),
    ];
    const insertion = `diff --git a/a.test.js b/a.test.js
--- a/a.test.js
+++ b/a.test.js
@@ -6,2 +6,3 @@
   it("subtracts", () => {
+    return;
     assert.equal(sub(3, 1), 2);
`;
    const input = {
      files: [{ file: "a.test.js", hunks: hunksOf(insertion), definitions }],
      f2p: ["a.test.js > sum > adds"],
      p2p: ["a.test.js > sum > subtracts"],
      weakenedResults: { "a.test.js > sum > subtracts": "passed" as const },
    };
    const verdict = judgeTouchedTests(input);
    expect(verdict.status === "failed" && verdict.reason).toContain("sum > subtracts in a.test.js");
    // The same edit of the F2P test is what a weakening is for.
    expect(judgeTouchedTests({ ...input, f2p: input.p2p, p2p: input.f2p }).status).toBe("passed");
    // A blank line added between the two tests edits neither.
    const between = `diff --git a/a.test.js b/a.test.js
--- a/a.test.js
+++ b/a.test.js
@@ -4,2 +4,3 @@
   });
+
 
`;
    expect(
      judgeTouchedTests({ ...input, files: [{ ...input.files[0]!, hunks: hunksOf(between) }] }).status,
    ).toBe("passed");
  });

  it("lets a Go subtest go with its F2P sibling, and a second-order artifact keep its parent's removals", () => {
    // parse_test.go: TestParse 1-12 with subtests "good" (3-6) and "bad" (7-10); TestOther 14-16.
    const definitions = [
      definition(["TestParse"], 1, 12, [".::TestParse"]),
      definition(["TestParse", "good"], 3, 6, [".::TestParse/good"]),
      definition(["TestParse", "bad"], 7, 10, [".::TestParse/bad"]),
      definition(["TestOther"], 14, 16, [".::TestOther"]),
    ];
    const removeGood = `diff --git a/parse_test.go b/parse_test.go
--- a/parse_test.go
+++ b/parse_test.go
@@ -3,4 +3,0 @@
-\tt.Run("good", func(t *testing.T) {
-\t\tif Parse("1") != 1 {
-\t\t\tt.Fatal("bad")
-\t\t}
`;
    const sibling = judgeTouchedTests({
      files: [{ file: "parse_test.go", hunks: hunksOf(removeGood), definitions }],
      f2p: [".::TestParse", ".::TestParse/bad"],
      p2p: [".::TestParse/good", ".::TestOther"],
      weakenedResults: { ".::TestOther": "passed" },
    });
    expect(sibling.status).toBe("passed");
    const removeOther = `diff --git a/parse_test.go b/parse_test.go
--- a/parse_test.go
+++ b/parse_test.go
@@ -14,3 +14,0 @@
-func TestOther(t *testing.T) {
-\tOther()
-}
`;
    const input = {
      files: [{ file: "parse_test.go", hunks: hunksOf(removeOther), definitions }],
      f2p: [".::TestParse/bad"],
      p2p: [".::TestOther"],
      weakenedResults: {},
    };
    expect(judgeTouchedTests(input).status).toBe("failed");
    expect(judgeTouchedTests({ ...input, inheritedWeakening: true })).toEqual({
      status: "passed",
      evidence: { touchedF2pDefinitions: 0, touchedByInheritedWeakening: [".::TestOther"] },
    });
    // A test the inherited weakening changed but left in place is judged like any other.
    expect(
      judgeTouchedTests({ ...input, inheritedWeakening: true, weakenedResults: { ".::TestOther": "passed" } })
        .status,
    ).toBe("failed");
  });

  it("names the weakened files whose language it cannot read, and passes them", () => {
    const verdict = judgeTouchedTests({
      files: [{ file: "tests/a.rb", hunks: hunksOf(REMOVE_A), definitions: null }],
      f2p: ["x"],
      p2p: ["y"],
      weakenedResults: {},
    });
    expect(verdict).toEqual({
      status: "passed",
      evidence: { touchedF2pDefinitions: 0, weakenedFilesNotRead: ["tests/a.rb"] },
    });
  });
});
