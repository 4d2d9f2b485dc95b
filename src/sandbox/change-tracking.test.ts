// Change tracking over a hostile tree: the tree's attributes, filters and hooks change nothing and run
// nothing; diffs are exact; rejections name file and hunk. Real git through the host runner.

import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../test/support/tmp.js";
import { ChangeTracker, describeRejection, filesOfDiff, unquote } from "./change-tracking.js";
import { createHostGitRunner } from "./local/host-git.js";

describe("change tracking", () => {
  const scratch = makeTempDir("swe-selfplay-tracking-");
  const tree = join(scratch.path, "tree");
  const gitDir = join(scratch.path, "tracking.git");
  const witness = join(scratch.path, "pwned");
  const tracker = new ChangeTracker(createHostGitRunner(), { gitDir, workTree: tree });
  const index = join(scratch.path, "index");
  let base = "";

  beforeAll(async () => {
    mkdirSync(join(tree, ".git", "hooks"), { recursive: true });
    // The tree is hostile: attributes asking for conversions and a filter, a repository config naming that
    // filter and an fsmonitor, and hooks. None of it may take effect.
    writeFileSync(join(tree, ".gitattributes"), "* text eol=crlf filter=evil ident\n");
    writeFileSync(
      join(tree, ".git", "config"),
      `[filter "evil"]\n\tclean = touch ${witness}\n\tsmudge = touch ${witness}\n[core]\n\tfsmonitor = touch ${witness}\n`,
    );
    for (const hook of ["pre-commit", "post-checkout", "post-index-change"]) {
      writeFileSync(join(tree, ".git", "hooks", hook), `#!/bin/sh\ntouch ${witness}\n`);
      chmodSync(join(tree, ".git", "hooks", hook), 0o755);
    }
    writeFileSync(join(tree, "lf.txt"), "one\ntwo\n");
    writeFileSync(join(tree, "crlf.txt"), "one\r\ntwo\r\n");
    writeFileSync(join(tree, "id.c"), "/* $Id$ */\n");
    writeFileSync(join(tree, "tab name.txt"), "spaced\n");
    await tracker.initialize();
    base = await tracker.stage(index);
  });

  afterAll(() => scratch.remove());

  it("stores file bytes unconverted and runs nothing from the tree", async () => {
    const stored = (path: string) =>
      execFileSync("git", ["--git-dir", gitDir, "cat-file", "blob", `${base}:${path}`], {
        env: { PATH: "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
      }).toString("latin1");
    expect(stored("crlf.txt")).toBe("one\r\ntwo\r\n");
    expect(stored("lf.txt")).toBe("one\ntwo\n");
    expect(stored("id.c")).toBe("/* $Id$ */\n");
    expect(await tracker.diffTrees(base, await tracker.stage(index), index)).toBe("");
    expect(existsSync(witness)).toBe(false);
    expect(existsSync(join(gitDir, "hooks", "pre-commit"))).toBe(false);
  });

  it("diffs exactly what changed, with renames and quoted names", async () => {
    writeFileSync(join(tree, "lf.txt"), "one\nTWO\n");
    writeFileSync(join(tree, "tab name.txt"), "spaced, edited\n");
    const after = await tracker.stage(index);
    const diff = await tracker.diffTrees(base, after, index);
    expect(diff).toContain("-two\n+TWO\n");
    expect(filesOfDiff(diff).sort()).toEqual(["lf.txt", "tab name.txt"]);
    expect(existsSync(witness)).toBe(false);
  });

  it("applies patches atomically and describes rejections", async () => {
    const patch = [
      "diff --git a/lf.txt b/lf.txt",
      "--- a/lf.txt",
      "+++ b/lf.txt",
      "@@ -1,2 +1,2 @@",
      "-one",
      "+ONE",
      " TWO",
      "diff --git a/missing.txt b/missing.txt",
      "--- a/missing.txt",
      "+++ b/missing.txt",
      "@@ -1 +1 @@",
      "-a",
      "+b",
      "",
    ].join("\n");
    const rejected = await tracker.apply(patch, index);
    expect(rejected.status).toBe("rejected");
    if (rejected.status === "rejected") expect(rejected.message).toContain("missing.txt");
    expect(readFileSync(join(tree, "lf.txt"), "utf8")).toBe("one\nTWO\n");
    const escaping =
      "diff --git a/../outside.txt b/../outside.txt\nnew file mode 100644\n--- /dev/null\n+++ b/../outside.txt\n@@ -0,0 +1 @@\n+x\n";
    expect((await tracker.apply(escaping, index)).status).toBe("rejected");
    expect(existsSync(join(scratch.path, "outside.txt"))).toBe(false);
    const good = patch.slice(0, patch.indexOf("diff --git a/missing.txt"));
    expect(await tracker.apply(good, index)).toEqual({ status: "applied", files: ["lf.txt"] });
  });

  it("names the hunk from git's complaint", () => {
    const diff = [
      "diff --git a/src/a.py b/src/a.py",
      "--- a/src/a.py",
      "+++ b/src/a.py",
      "@@ -1,3 +1,3 @@",
      " x",
      "@@ -40,3 +40,3 @@",
      " y",
      "",
    ].join("\n");
    expect(
      describeRejection(diff, "error: patch failed: src/a.py:40\nerror: src/a.py: patch does not apply\n"),
    ).toEqual({
      status: "rejected",
      message: "src/a.py: hunk #2 at line 40 does not apply",
      file: "src/a.py",
      hunk: 2,
    });
  });

  it("reads git's quoted paths", () => {
    expect(unquote('"a/t\\303\\244st\\ttab"')).toBe("a/täst\ttab");
    expect(filesOfDiff('diff --git "a/t\\303\\244st" "b/t\\303\\244st"\n')).toEqual(["täst"]);
    expect(
      filesOfDiff(
        "diff --git a/old.py b/new.py\nsimilarity index 100%\nrename from old.py\nrename to new.py\n",
      ),
    ).toEqual(["old.py", "new.py"]);
  });
});
