import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getExample } from "../examples/build.js";
import { joinDiffs } from "./diff-format.js";
import { parseDiff } from "./diff-parse.js";
import { diffFiles, splitDiffByFile } from "./diff-split.js";

const twoFiles =
  "diff --git a/src/a.py b/src/a.py\nindex 1111111..2222222 100644\n--- a/src/a.py\n+++ b/src/a.py\n" +
  "@@ -1,3 +1,3 @@ def f():\n one\n-two\n+TWO\n three\n" +
  "diff --git a/src/old.py b/src/new.py\nsimilarity index 90%\nrename from src/old.py\nrename to src/new.py\n";

describe("parseDiff", () => {
  it("reads files, hunks, sections and line numbers", () => {
    const parsed = parseDiff(twoFiles);
    expect(parsed.status).toBe("ok");
    if (parsed.status !== "ok") return;
    const [first, second] = parsed.files;
    expect(first).toMatchObject({ oldPath: "src/a.py", newPath: "src/a.py", change: "modified", line: 1 });
    expect(first!.oldMode).toBe("100644");
    expect(first!.hunks[0]).toMatchObject({
      oldStart: 1,
      oldLines: 3,
      newStart: 1,
      newLines: 3,
      section: " def f():",
      line: 5,
    });
    expect(first!.hunks[0]!.lines.map((line) => line.kind)).toEqual([
      "context",
      "removed",
      "added",
      "context",
    ]);
    expect(second).toMatchObject({
      oldPath: "src/old.py",
      newPath: "src/new.py",
      change: "renamed",
      similarity: 90,
      line: 10,
    });
    expect(second!.hunks).toEqual([]);
  });

  it("reads plain unified diffs with timestamps and counts defaulting to one", () => {
    const parsed = parseDiff(
      "--- a/x.txt\t2024-01-01 00:00:00\n+++ b/x.txt\t2024-01-02\n@@ -1 +1 @@\n-a\n+b\n",
    );
    expect(parsed).toMatchObject({
      status: "ok",
      files: [{ oldPath: "x.txt", newPath: "x.txt", change: "modified" }],
    });
    const created = parseDiff("--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    expect(created).toMatchObject({
      status: "ok",
      files: [{ oldPath: null, newPath: "new.txt", change: "added" }],
    });
  });

  it("skips a commit message before the first file and a signature after the last", () => {
    const patch = readFileSync(
      join(getExample("inkwell").directory, "history", getExample("inkwell").patches[3]!),
      "utf8",
    );
    const parsed = parseDiff(`${patch}-- \n2.39.5\n`);
    expect(parsed.status).toBe("ok");
    if (parsed.status === "ok")
      expect(parsed.files.map((file) => file.newPath)).toEqual(["inkwell/case.py", "tests/test_case.py"]);
  });

  it("keeps a hunk line that looks like a header when the counts say it belongs to the hunk", () => {
    const diff = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n--- not a header\n+++ also not\n context\n";
    const parsed = parseDiff(diff);
    expect(parsed).toMatchObject({ status: "ok" });
    if (parsed.status === "ok")
      expect(parsed.files[0]!.hunks[0]!.lines.map((line) => line.text)).toEqual([
        "-- not a header",
        "++ also not",
        "context",
      ]);
  });

  it("reads quoted and unquoted paths with spaces", () => {
    const parsed = parseDiff(
      'diff --git "a/sp ace\\ttab.txt" "b/sp ace\\ttab.txt"\nnew file mode 100644\n--- /dev/null\n+++ "b/sp ace\\ttab.txt"\n@@ -0,0 +1 @@\n+x\n' +
        "diff --git a/with space.txt b/with space.txt\ndeleted file mode 100755\n--- a/with space.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n",
    );
    expect(parsed).toMatchObject({
      status: "ok",
      files: [
        { newPath: "sp ace\ttab.txt", change: "added", newMode: "100644" },
        { oldPath: "with space.txt", newPath: null, change: "deleted", oldMode: "100755" },
      ],
    });
  });

  it("reads paths with non-ASCII characters quoted as octal bytes", () => {
    const parsed = parseDiff(
      'diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"\nold mode 100644\nnew mode 100755\n',
    );
    expect(parsed).toMatchObject({
      status: "ok",
      files: [{ oldPath: "café.txt", oldMode: "100644", newMode: "100755" }],
    });
  });

  it("reports malformed input with its line", () => {
    // Like git, lines after a complete hunk are ignored, but a hunk cut short by the next file is an error.
    const cutShort = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\ndiff --git a/y b/y\n";
    expect(parseDiff(cutShort)).toMatchObject({
      status: "error",
      line: 7,
      message: expect.stringMatching(/ends early/),
    });
    expect(parseDiff("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n?a\n")).toMatchObject({
      status: "error",
      line: 5,
    });
    expect(parseDiff("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -x +1 @@\n")).toMatchObject({
      status: "error",
      line: 4,
    });
    expect(parseDiff("diff --git a/x b/x\nnew file mode 12345\n")).toMatchObject({
      status: "error",
      line: 2,
    });
    expect(parseDiff("diff --git a/x b/x\n--- /dev/null\n+++ b/x\n")).toMatchObject({
      status: "error",
      line: 2,
    });
  });

  it("parses an empty diff as no files", () => {
    expect(parseDiff("")).toEqual({ status: "ok", files: [] });
  });
});

describe("splitDiffByFile and joinDiffs", () => {
  it("splits into exact per-file sections that join back to the diff", () => {
    const split = splitDiffByFile(twoFiles);
    expect(split.status).toBe("ok");
    if (split.status !== "ok") return;
    expect(split.files.map((file) => [file.path, file.change, file.paths])).toEqual([
      ["src/a.py", "modified", ["src/a.py"]],
      ["src/new.py", "renamed", ["src/old.py", "src/new.py"]],
    ]);
    expect(joinDiffs(split.files.map((file) => file.diff))).toBe(twoFiles);
  });

  it("gives per-file diffs that git applies on their own", () => {
    const example = getExample("inkwell");
    const bug = readFileSync(join(example.directory, "artifact", "bug_inject.diff"), "utf8");
    const split = splitDiffByFile(bug);
    if (split.status !== "ok") throw new Error("bug diff does not parse");
    expect(split.files.map((file) => file.path)).toEqual(["inkwell/case.py", "inkwell/wrap.py"]);
    for (const file of split.files) {
      const stat = execFileSync("git", ["apply", "--numstat", "-"], { input: file.diff, encoding: "utf8" });
      expect(stat.trim().split("\n")).toHaveLength(1);
    }
    expect(joinDiffs(["a\n", "", "b"])).toBe("a\nb\n");
  });
});

describe("diffFiles", () => {
  it("lists every touched path once, both names of a rename", () => {
    expect(diffFiles(twoFiles)).toEqual({ status: "ok", files: ["src/a.py", "src/old.py", "src/new.py"] });
  });

  it("passes parse errors on", () => {
    expect(diffFiles("--- a/x\n+++ b/x\n@@ -1 +1 @@\n")).toMatchObject({ status: "error", line: 3 });
  });
});
