import { describe, expect, it } from "vitest";
import { filterDiff, splitDiffSections } from "./diff-sections.js";
import { applyTextEdits } from "./text-edits.js";

const DIFF = `diff --git a/pkg/a.py b/pkg/a.py
index 1111111..2222222 100644
--- a/pkg/a.py
+++ b/pkg/a.py
@@ -1 +1 @@
-x = 1
+x = 2
diff --git a/pkg/__pycache__/a.cpython-311.pyc b/pkg/__pycache__/a.cpython-311.pyc
new file mode 100644
index 0000000..3333333
Binary files /dev/null and b/pkg/__pycache__/a.cpython-311.pyc differ
diff --git a/old.py b/old.py
deleted file mode 100644
index 4444444..0000000
--- a/old.py
+++ /dev/null
@@ -1 +0,0 @@
-y = 1
`;

describe("splitDiffSections", () => {
  it("names each section by its path, deletions and binary sections included", () => {
    expect(splitDiffSections(DIFF).map((section) => section.path)).toEqual([
      "pkg/a.py",
      "pkg/__pycache__/a.cpython-311.pyc",
      "old.py",
    ]);
  });

  it("keeps only the chosen files, byte for byte", () => {
    const kept = filterDiff(DIFF, (path) => path.endsWith(".py"));
    expect(kept).toBe(DIFF.replace(/diff --git a\/pkg\/__pycache__[\s\S]*?differ\n/, ""));
    expect(filterDiff(DIFF, () => false)).toBe("");
    expect(splitDiffSections("")).toEqual([]);
  });
});

describe("applyTextEdits", () => {
  it("applies edits right to left and refuses overlaps", () => {
    expect(
      applyTextEdits("a < b and c", [
        { start: 2, end: 3, replacement: "<=" },
        { start: 6, end: 9, replacement: "or" },
      ]),
    ).toBe("a <= b or c");
    expect(() =>
      applyTextEdits("abcdef", [
        { start: 0, end: 3, replacement: "" },
        { start: 2, end: 4, replacement: "" },
      ]),
    ).toThrow(/overlap/);
  });
});
