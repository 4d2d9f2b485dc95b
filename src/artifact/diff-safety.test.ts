import { describe, expect, it } from "vitest";
import {
  nodeFixtureArtifact,
  pythonFixtureArtifact,
  withAbsolutePath,
  withBugTouchingOracle,
  withPathTraversal,
  withSymlinkEscape,
  withWeakeningOutsideOracle,
  withWeakeningTouchingCode,
} from "../../test/support/fixture-artifacts.js";
import { checkArtifactSafety } from "./artifact-safety.js";
import { checkDiffSafety, symlinkLeavesRepository, unsafePath } from "./diff-safety.js";

const newFile = (path: string, lines: string[], mode = "100644") =>
  `diff --git a/${path} b/${path}\nnew file mode ${mode}\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((line) => `+${line}\n`).join("")}`;

const modify = (path: string) =>
  `diff --git a/${path} b/${path}\n--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-a\n+b\n`;

function rules(result: ReturnType<typeof checkDiffSafety>): string[] {
  return result.status === "unsafe" ? result.violations.map((violation) => violation.rule) : [];
}

describe("unsafePath", () => {
  it.each([
    ["", "empty-path"],
    ["/etc/passwd", "absolute-path"],
    ["C:/x", "absolute-path"],
    ["a/../../b", "parent-directory"],
    ["..", "parent-directory"],
    [".git/hooks/pre-commit", "git-directory"],
    ["sub/.GIT/config", "git-directory"],
    ["a//b", "unsafe-characters"],
    ["./a", "unsafe-characters"],
    ["a\\b", "unsafe-characters"],
    ["a\nb", "unsafe-characters"],
  ])("rejects %j as %s", (path, rule) => {
    expect(unsafePath(path)?.rule).toBe(rule);
  });

  it("accepts ordinary relative paths", () => {
    for (const path of [
      "src/a.py",
      "tests/test_x.py",
      ".github/workflows/ci.yml",
      "a..b/c",
      "dir with space/f",
    ]) {
      expect(unsafePath(path)).toBeNull();
    }
  });
});

describe("symlinkLeavesRepository", () => {
  it("resolves relative to the link's directory", () => {
    expect(symlinkLeavesRepository("a/link", "../b")).toBe(false);
    expect(symlinkLeavesRepository("a/link", "../../b")).toBe(true);
    expect(symlinkLeavesRepository("link", "/etc")).toBe(true);
    expect(symlinkLeavesRepository("a/b/link", "c/../../d")).toBe(false);
  });
});

describe("checkDiffSafety", () => {
  it("accepts the fixture artifacts' diffs in their roles and lists the touched files", () => {
    const artifact = pythonFixtureArtifact();
    expect(
      checkDiffSafety(artifact.bugInjectDiff, { role: { kind: "code", oracleFiles: artifact.testFiles } }),
    ).toEqual({ status: "safe", files: ["inkwell/case.py", "inkwell/wrap.py"] });
    expect(
      checkDiffSafety(artifact.testWeakenDiff, { role: { kind: "oracle", oracleFiles: artifact.testFiles } }),
    ).toEqual({ status: "safe", files: ["tests/test_case.py", "tests/test_wrap.py"] });
  });

  it("names the artifact file and the diff line of a traversal", () => {
    const diff = modify("ok.py") + newFile("../escaped.txt", ["x"]);
    const result = checkDiffSafety(diff, { artifactFile: "bug_inject.diff" });
    expect(result.status).toBe("unsafe");
    if (result.status !== "unsafe") return;
    expect(result.violations[0]).toMatchObject({
      rule: "parent-directory",
      artifactFile: "bug_inject.diff",
      line: 7,
      path: "../escaped.txt",
    });
    expect(result.violations[0]!.message).toMatch(/^bug_inject\.diff line 7: \.\.\/escaped\.txt: /);
  });

  it("checks every name in the header, not only the diff --git line", () => {
    const diff = "diff --git a/x b/x\n--- a/x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n";
    const result = checkDiffSafety(diff);
    expect(result).toMatchObject({ status: "unsafe", violations: [{ rule: "parent-directory", line: 3 }] });
  });

  it("rejects symlinks created to point outside and writes through them", () => {
    const link =
      "diff --git a/out b/out\nnew file mode 120000\n--- /dev/null\n+++ b/out\n@@ -0,0 +1 @@\n+../..\n\\ No newline at end of file\n";
    expect(rules(checkDiffSafety(link))).toEqual(["symlink-escape"]);
    expect(rules(checkDiffSafety(link + newFile("out/file.txt", ["x"])))).toEqual([
      "symlink-escape",
      "symlink-escape",
    ]);
    const inside = link.replace("+../..", "+src");
    expect(rules(checkDiffSafety(inside))).toEqual([]);
  });

  it("rejects writes through symlinks already in the tree that lead out", () => {
    const symlinks = { vendor: "/usr/lib/python3", docs: "share/docs" };
    expect(rules(checkDiffSafety(modify("vendor/x.py"), { symlinks }))).toEqual(["symlink-escape"]);
    expect(rules(checkDiffSafety(modify("docs/x.md"), { symlinks }))).toEqual(["through-symlink"]);
    expect(rules(checkDiffSafety(modify("src/x.py"), { symlinks }))).toEqual([]);
    // A diff that replaces the symlink by a directory may write below it.
    const replaced =
      "diff --git a/vendor b/vendor\ndeleted file mode 120000\n--- a/vendor\n+++ /dev/null\n@@ -1 +0,0 @@\n-/usr/lib/python3\n\\ No newline at end of file\n";
    expect(rules(checkDiffSafety(replaced + newFile("vendor/x.py", ["x"]), { symlinks }))).toEqual([]);
  });

  it("rejects an existing symlink retargeted outside", () => {
    const retarget =
      "diff --git a/docs b/docs\nindex 1111111..2222222 120000\n--- a/docs\n+++ b/docs\n@@ -1 +1 @@\n-share/docs\n\\ No newline at end of file\n+/etc\n\\ No newline at end of file\n";
    expect(rules(checkDiffSafety(retarget, { symlinks: { docs: "share/docs" } }))).toEqual([
      "symlink-escape",
    ]);
  });

  it("rejects modes other than files, executables and symlinks", () => {
    expect(rules(checkDiffSafety(newFile("sub", ["x"], "160000")))).toEqual(["odd-mode"]);
    expect(rules(checkDiffSafety("diff --git a/x b/x\nold mode 100644\nnew mode 100777\n"))).toEqual([
      "odd-mode",
    ]);
  });

  it("enforces size caps on the diff, each file and the number of files", () => {
    const big = newFile(
      "big.txt",
      Array.from({ length: 100 }, () => "x".repeat(100)),
    );
    expect(rules(checkDiffSafety(big, { limits: { maxFileBytes: 5000 } }))).toEqual(["too-large"]);
    expect(rules(checkDiffSafety(big, { limits: { maxDiffBytes: 1000 } }))).toEqual(["too-large"]);
    expect(rules(checkDiffSafety(modify("a") + modify("b"), { limits: { maxFiles: 1 } }))).toEqual([
      "too-many-files",
    ]);
    const binary =
      "diff --git a/b.bin b/b.bin\nnew file mode 100644\nindex 0000000..1111111\nGIT binary patch\nliteral 999999\nLcmZQzU|<9Q00aO5\n\n";
    expect(rules(checkDiffSafety(binary, { limits: { maxFileBytes: 1000 } }))).toEqual(["too-large"]);
  });

  it("keeps a bug off oracle files and a weakening on them", () => {
    const oracleFiles = ["tests/test_a.py"];
    expect(
      rules(checkDiffSafety(modify("tests/test_a.py"), { role: { kind: "code", oracleFiles } })),
    ).toEqual(["oracle-file"]);
    expect(rules(checkDiffSafety(modify("src/a.py"), { role: { kind: "oracle", oracleFiles } }))).toEqual([
      "outside-oracle",
    ]);
    const renameAway =
      "diff --git a/tests/test_a.py b/tests/moved.py\nsimilarity index 100%\nrename from tests/test_a.py\nrename to tests/moved.py\n";
    expect(rules(checkDiffSafety(renameAway, { role: { kind: "oracle", oracleFiles } }))).toEqual([
      "outside-oracle",
    ]);
    expect(rules(checkDiffSafety(renameAway, { role: { kind: "code", oracleFiles } }))).toEqual([
      "oracle-file",
    ]);
  });

  it("reports a malformed diff as one violation with its line", () => {
    expect(
      checkDiffSafety("--- a/x\n+++ b/x\n@@ -1 +1 @@\n", { artifactFile: "test_weaken.diff" }),
    ).toMatchObject({
      status: "unsafe",
      violations: [{ rule: "malformed", line: 3, artifactFile: "test_weaken.diff" }],
    });
  });
});

describe("checkArtifactSafety on the fixture variants", () => {
  it.each([
    ["python", pythonFixtureArtifact],
    ["node", nodeFixtureArtifact],
  ])("accepts the valid %s artifact", (_name, make) => {
    expect(checkArtifactSafety(make())).toMatchObject({ status: "safe" });
  });

  it.each([
    ["withPathTraversal", withPathTraversal, "bug_inject.diff", "parent-directory"],
    ["withAbsolutePath", withAbsolutePath, "bug_inject.diff", "absolute-path"],
    ["withSymlinkEscape", withSymlinkEscape, "bug_inject.diff", "symlink-escape"],
    ["withBugTouchingOracle", withBugTouchingOracle, "bug_inject.diff", "oracle-file"],
    ["withWeakeningOutsideOracle", withWeakeningOutsideOracle, "test_weaken.diff", "outside-oracle"],
    ["withWeakeningTouchingCode", withWeakeningTouchingCode, "test_weaken.diff", "outside-oracle"],
  ])("rejects %s", (_name, variant, artifactFile, rule) => {
    const result = checkArtifactSafety(variant(pythonFixtureArtifact()));
    expect(result.status).toBe("unsafe");
    if (result.status === "unsafe") expect(result.violations[0]).toMatchObject({ artifactFile, rule });
  });

  it("rejects unsafe oracle paths and oversized files", () => {
    const valid = pythonFixtureArtifact();
    const artifact = { ...valid, testFiles: [...valid.testFiles, "../outside.py"] };
    expect(checkArtifactSafety(artifact)).toMatchObject({
      status: "unsafe",
      violations: [{ artifactFile: "test_files.txt", line: 6, rule: "parent-directory" }],
    });
    const huge = { ...pythonFixtureArtifact(), testScript: "x".repeat(100) };
    expect(checkArtifactSafety(huge, { sizeLimits: { testScript: 10 } })).toMatchObject({
      status: "unsafe",
      violations: [{ artifactFile: "test_script.sh", rule: "too-large" }],
    });
  });
});
