import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../test/support/tmp.js";
import { composeDiffs } from "./diff-compose.js";

const temp = makeTempDir("swe-selfplay-compose-");
afterAll(() => temp.remove());

function git(repo: string, args: string[], input?: string): string {
  return execFileSync("git", ["-c", "core.autocrlf=false", ...args], {
    cwd: repo,
    input,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
  });
}

const numbered = (count: number, label = "line") =>
  Array.from({ length: count }, (_, i) => `${label} ${i}\n`);

let repo: string;
let base: string;

beforeAll(() => {
  repo = join(temp.path, "repo");
  mkdirSync(join(repo, "src"), { recursive: true });
  git(repo, ["init", "-q"]);
  writeFileSync(join(repo, "src/a.py"), numbered(60).join(""));
  writeFileSync(join(repo, "src/b.py"), numbered(10, "b").join(""));
  writeFileSync(join(repo, "tests.py"), numbered(30, "test").join(""));
  writeFileSync(join(repo, "tail.txt"), "one\ntwo");
  git(repo, ["add", "-A"]);
  git(repo, ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base"]);
  base = git(repo, ["rev-parse", "HEAD^{tree}"]).trim();
});

/** Runs `first` then `second` on the working tree; returns the diff of each step and the final tree. */
function twoSteps(first: () => void, second: () => void): { a: string; b: string; expected: string } {
  git(repo, ["reset", "-q", "--hard", "HEAD"]);
  git(repo, ["clean", "-qfd"]);
  first();
  git(repo, ["add", "-A"]);
  const middle = git(repo, ["write-tree"]).trim();
  second();
  git(repo, ["add", "-A"]);
  const expected = git(repo, ["write-tree"]).trim();
  const a = git(repo, ["diff", "-M", base, middle]);
  const b = git(repo, ["diff", "-M", middle, expected]);
  git(repo, ["reset", "-q", "--hard", "HEAD"]);
  git(repo, ["clean", "-qfd"]);
  return { a, b, expected };
}

function composedTree(a: string, b: string): string {
  const result = composeDiffs(a, b);
  if (result.status !== "ok") throw new Error(`compose failed: ${JSON.stringify(result)}`);
  git(repo, ["apply", "--index", "-"], result.diff);
  const tree = git(repo, ["write-tree"]).trim();
  git(repo, ["reset", "-q", "--hard", "HEAD"]);
  git(repo, ["clean", "-qfd"]);
  return tree;
}

function edit(path: string, change: (lines: string[]) => void): void {
  const lines = readFileSync(join(repo, path), "utf8").split(/(?<=\n)/);
  change(lines);
  writeFileSync(join(repo, path), lines.join(""));
}

describe("composeDiffs", () => {
  const cases: [string, () => void, () => void][] = [
    [
      "different files",
      () => edit("src/a.py", (l) => l.splice(5, 1, "bug\n")),
      () => edit("tests.py", (l) => l.splice(3, 2)),
    ],
    [
      "far apart hunks in one file",
      () => edit("src/a.py", (l) => l.splice(5, 1, "first\n", "extra\n")),
      () => edit("src/a.py", (l) => l.splice(50, 3, "second\n")),
    ],
    [
      "the second diff edits lines the first added",
      () => edit("src/a.py", (l) => l.splice(20, 1, "new 1\n", "new 2\n", "new 3\n")),
      () => edit("src/a.py", (l) => l.splice(21, 1, "new 2 edited\n")),
    ],
    [
      "hunks whose contexts overlap",
      () => edit("src/a.py", (l) => l.splice(20, 1, "x\n")),
      () => edit("src/a.py", (l) => l.splice(24, 1)),
    ],
    [
      "a created file edited again",
      () => writeFileSync(join(repo, "src/new.py"), numbered(8, "n").join("")),
      () => edit("src/new.py", (l) => l.splice(2, 1, "changed\n")),
    ],
    [
      "an edited file deleted",
      () => edit("src/b.py", (l) => l.splice(2, 1, "changed\n")),
      () => rmSync(join(repo, "src/b.py")),
    ],
    [
      "a deleted file created again",
      () => rmSync(join(repo, "src/b.py")),
      () => writeFileSync(join(repo, "src/b.py"), "entirely\nnew\n"),
    ],
    [
      "a renamed file edited",
      () => {
        renameSync(join(repo, "src/a.py"), join(repo, "src/c.py"));
        edit("src/c.py", (l) => l.splice(1, 1, "renamed edit\n"));
      },
      () => edit("src/c.py", (l) => l.splice(40, 1, "later edit\n")),
    ],
    [
      "a mode change then an edit",
      () => chmodSync(join(repo, "src/b.py"), 0o755),
      () => edit("src/b.py", (l) => l.splice(0, 1, "#!/bin/sh\n")),
    ],
    [
      "a missing final newline then more lines",
      () => writeFileSync(join(repo, "tail.txt"), "one\ntwo\nthree"),
      () => writeFileSync(join(repo, "tail.txt"), "one\ntwo\nthree\nfour\n"),
    ],
  ];

  it.each(cases)("composes %s exactly", (_name, first, second) => {
    const { a, b, expected } = twoSteps(first, second);
    expect(composedTree(a, b)).toBe(expected);
  });

  it("gives an empty diff when the second undoes the first", () => {
    const { a, b, expected } = twoSteps(
      () => edit("src/a.py", (l) => l.splice(10, 1, "temporary\n")),
      () => edit("src/a.py", (l) => l.splice(10, 1, "line 10\n")),
    );
    expect(expected).toBe(base);
    expect(composeDiffs(a, b)).toEqual({ status: "ok", diff: "" });
  });

  it("says it cannot compose when the second diff does not fit the first's result", () => {
    const { a } = twoSteps(
      () => edit("src/a.py", (l) => l.splice(10, 1, "from a\n")),
      () => undefined,
    );
    const b =
      "diff --git a/src/a.py b/src/a.py\n--- a/src/a.py\n+++ b/src/a.py\n@@ -10,3 +10,3 @@\n line 9\n-line 10\n+from b\n line 11\n";
    const result = composeDiffs(a, b);
    expect(result).toMatchObject({ status: "cannot-compose", file: "src/a.py" });
  });

  it("keeps the exact text of files only one diff touches", () => {
    const a =
      "diff --git a/x b/x\nindex 1234567..89abcde 100644\n--- a/x\n+++ b/x\n@@ -1 +1 @@ note\n-a\n+b\n";
    const b = "diff --git a/y b/y\nnew file mode 100755\n--- /dev/null\n+++ b/y\n@@ -0,0 +1 @@\n+c\n";
    expect(composeDiffs(a, b)).toEqual({ status: "ok", diff: a + b });
    expect(composeDiffs("", b)).toEqual({ status: "ok", diff: b });
  });

  it("says it cannot compose two changes of one binary file", () => {
    const binary =
      "diff --git a/b.bin b/b.bin\nindex 1111111..2222222 100644\nGIT binary patch\nliteral 4\nLcmZQzU|<9Q00aO5\n\nliteral 4\nLcmZQzU|<9Q00aO5\n\n";
    expect(composeDiffs(binary, binary)).toMatchObject({ status: "cannot-compose", file: "b.bin" });
  });

  it("says it cannot compose when the second diff edits a file the first deleted", () => {
    const deleted =
      "diff --git a/x b/x\ndeleted file mode 100644\n--- a/x\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n";
    const edit = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
    expect(composeDiffs(deleted, edit)).toMatchObject({ status: "cannot-compose", file: "x" });
  });

  it("reports a parse error in either diff with its line", () => {
    expect(composeDiffs("diff --git a/x b/x\n--- a/x\n", "")).toMatchObject({
      status: "error",
      diff: "first",
      line: 3,
    });
    expect(composeDiffs("", "--- a/x\n+++ b/x\n@@ -1 +1 @@\n")).toMatchObject({
      status: "error",
      diff: "second",
      line: 3,
    });
  });

  it("composes random edit pairs exactly (against git)", () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const randomEdits = (path: string) =>
      edit(path, (lines) => {
        for (let count = 1 + random(4); count > 0; count--) {
          const at = random(lines.length + 1);
          const removed = random(3);
          const added = Array.from({ length: random(3) }, () => `r${random(1000)}\n`);
          lines.splice(at, removed, ...added);
        }
      });
    for (let round = 0; round < 25; round++) {
      const { a, b, expected } = twoSteps(
        () => randomEdits("src/a.py"),
        () => randomEdits("src/a.py"),
      );
      expect(composedTree(a, b), `round ${round}\n${a}\n${b}`).toBe(expected);
    }
  });
});
