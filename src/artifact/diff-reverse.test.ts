import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../test/support/tmp.js";
import { parseDiff } from "./diff-parse.js";
import { unwrapDiff } from "./diff-result.js";
import { reverseDiff } from "./diff-reverse.js";

const temp = makeTempDir("swe-selfplay-reverse-");
afterAll(() => temp.remove());

function git(repo: string, args: string[], input?: string): string {
  return execFileSync("git", ["-c", "core.autocrlf=false", ...args], {
    cwd: repo,
    input,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
  });
}

/** A repository whose HEAD is the original and whose staged diff (returned) covers every kind of change. */
function makeChangedRepo(name: string): {
  repo: string;
  diff: string;
  noRenames: string;
  original: string;
  changed: string;
} {
  const repo = join(temp.path, name);
  mkdirSync(join(repo, "pkg"), { recursive: true });
  git(repo, ["init", "-q"]);
  writeFileSync(join(repo, "pkg/a.py"), Array.from({ length: 40 }, (_, i) => `line ${i}\n`).join(""));
  writeFileSync(join(repo, "pkg/gone.py"), "def gone():\n    return 1\n");
  writeFileSync(join(repo, "moved.txt"), Array.from({ length: 20 }, (_, i) => `moved ${i}\n`).join(""));
  writeFileSync(join(repo, "run.sh"), "#!/bin/sh\necho hi\n");
  writeFileSync(join(repo, "no-newline.txt"), "first\nlast without newline");
  writeFileSync(join(repo, 'we"ird\tname.txt'), "quoted\n");
  writeFileSync(join(repo, "crlf.txt"), "one\r\ntwo\r\n");
  writeFileSync(join(repo, "blob.bin"), Buffer.from([0, 1, 2, 3, 255, 254, 0, 7]));
  symlinkSync("pkg/a.py", join(repo, "link"));
  writeFileSync(join(repo, "pure-rename.txt"), Array.from({ length: 10 }, (_, i) => `same ${i}\n`).join(""));
  writeFileSync(join(repo, "empty-gone.txt"), "");
  mkdirSync(join(repo, "sub"));
  writeFileSync(join(repo, "sub/keep.txt"), "kept\n");
  git(repo, ["add", "-A"]);
  git(repo, ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "original"]);
  const original = git(repo, ["rev-parse", "HEAD^{tree}"]).trim();

  const lines = Array.from({ length: 40 }, (_, i) => `line ${i}\n`);
  lines[3] = "changed 3\n";
  lines.splice(20, 2, "replaced 20\n", "added\n", "added again\n");
  lines.push("tail\n");
  writeFileSync(join(repo, "pkg/a.py"), lines.join(""));
  rmSync(join(repo, "pkg/gone.py"));
  writeFileSync(join(repo, "pkg/new.py"), "def new():\n    return 2\n");
  renameSync(join(repo, "moved.txt"), join(repo, "renamed.txt"));
  writeFileSync(
    join(repo, "renamed.txt"),
    Array.from({ length: 20 }, (_, i) => (i === 5 ? "edited\n" : `moved ${i}\n`)).join(""),
  );
  chmodSync(join(repo, "run.sh"), 0o755);
  writeFileSync(join(repo, "no-newline.txt"), "first\nnew last without newline");
  writeFileSync(join(repo, 'we"ird\tname.txt'), "quoted and changed\n");
  writeFileSync(join(repo, "crlf.txt"), "one\r\nTWO\r\n");
  writeFileSync(join(repo, "blob.bin"), Buffer.from([9, 9, 0, 1, 2, 3, 255, 0]));
  writeFileSync(join(repo, "new.bin"), Buffer.from([0, 0, 0, 1]));
  rmSync(join(repo, "link"));
  symlinkSync("pkg/new.py", join(repo, "link"));
  renameSync(join(repo, "pure-rename.txt"), join(repo, "pkg/pure-renamed.txt"));
  rmSync(join(repo, "empty-gone.txt"));
  writeFileSync(join(repo, "sub/empty-new.txt"), "");
  git(repo, ["add", "-A"]);
  const changed = git(repo, ["write-tree"]).trim();
  const diff = git(repo, ["diff", "--cached", "--binary", "-M", "HEAD"]);
  const noRenames = git(repo, ["diff", "--cached", "--binary", "--no-renames", "HEAD"]);
  git(repo, ["reset", "-q", "--hard", "HEAD"]);
  return { repo, diff, noRenames, original, changed };
}

function applyAndTree(repo: string, diff: string): string {
  git(repo, ["apply", "--index", "-"], diff);
  return git(repo, ["write-tree"]).trim();
}

describe("reverseDiff", () => {
  let fixture: ReturnType<typeof makeChangedRepo>;
  beforeAll(() => {
    fixture = makeChangedRepo("all-kinds");
  });

  it("parses a diff with every kind of change", () => {
    const parsed = parseDiff(fixture.diff);
    expect(parsed.status).toBe("ok");
    if (parsed.status !== "ok") return;
    const byPath = new Map(parsed.files.map((file) => [file.newPath ?? file.oldPath, file]));
    expect(byPath.get("pkg/gone.py")?.change).toBe("deleted");
    expect(byPath.get("pkg/new.py")?.change).toBe("added");
    expect(byPath.get("renamed.txt")).toMatchObject({ change: "renamed", oldPath: "moved.txt" });
    expect(byPath.get("run.sh")).toMatchObject({ oldMode: "100644", newMode: "100755" });
    expect(byPath.get('we"ird\tname.txt')?.change).toBe("modified");
    expect(byPath.get("blob.bin")?.binary?.kind).toBe("patch");
    expect(byPath.get("link")).toMatchObject({ oldMode: "120000", newMode: "120000" });
    expect(byPath.get("pkg/pure-renamed.txt")).toMatchObject({
      change: "renamed",
      similarity: 100,
      hunks: [],
    });
    // Empty files: git may pair them as a rename; either way there are no hunks.
    const empty = parsed.files.filter((file) =>
      [file.oldPath, file.newPath].some((path) => path?.includes("empty")),
    );
    expect(empty.length).toBeGreaterThan(0);
    expect(empty.every((file) => file.hunks.length === 0)).toBe(true);
    const noNewline = byPath.get("no-newline.txt")!.hunks[0]!.lines.filter((line) => line.noNewlineAtEnd);
    expect(noNewline).toHaveLength(2);
  });

  it("undoes the diff exactly when applied with git", () => {
    expect(applyAndTree(fixture.repo, fixture.diff)).toBe(fixture.changed);
    const reversed = unwrapDiff(reverseDiff(fixture.diff));
    expect(applyAndTree(fixture.repo, reversed)).toBe(fixture.original);
    git(fixture.repo, ["reset", "-q", "--hard", "HEAD"]);
  });

  it("undoes a diff without rename detection (deletions, empty new files) exactly", () => {
    expect(applyAndTree(fixture.repo, fixture.noRenames)).toBe(fixture.changed);
    expect(applyAndTree(fixture.repo, unwrapDiff(reverseDiff(fixture.noRenames)))).toBe(fixture.original);
    git(fixture.repo, ["reset", "-q", "--hard", "HEAD"]);
  });

  it("gives the original diff's effect when reversed twice", () => {
    const twice = unwrapDiff(reverseDiff(unwrapDiff(reverseDiff(fixture.diff))));
    expect(applyAndTree(fixture.repo, twice)).toBe(fixture.changed);
    git(fixture.repo, ["reset", "-q", "--hard", "HEAD"]);
  });

  it("matches git apply -R on the same diff", () => {
    git(fixture.repo, ["apply", "--index", "-"], fixture.diff);
    git(fixture.repo, ["apply", "--index", "-R", "-"], fixture.diff);
    expect(git(fixture.repo, ["write-tree"]).trim()).toBe(fixture.original);
    git(fixture.repo, ["reset", "-q", "--hard", "HEAD"]);
  });

  it("reports where a malformed diff breaks", () => {
    const broken = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n";
    expect(reverseDiff(broken)).toMatchObject({
      status: "error",
      line: 4,
      message: expect.stringMatching(/ends early/),
    });
    expect(reverseDiff("diff --git a/x b/x\nindex zz..yy\n")).toMatchObject({ status: "error", line: 2 });
  });

  it("reverses an empty diff to an empty diff", () => {
    expect(reverseDiff("")).toEqual({ status: "ok", diff: "" });
  });

  it("refuses a binary patch without its reverse section", () => {
    const diff =
      "diff --git a/b.bin b/b.bin\nnew file mode 100644\nindex 0000000..1111111\nGIT binary patch\nliteral 4\nLcmZQzU|<9Q00aO5\n\n";
    expect(reverseDiff(diff)).toMatchObject({
      status: "error",
      message: expect.stringMatching(/reverse section/),
    });
  });
});
