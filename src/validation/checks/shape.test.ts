import { describe, expect, it } from "vitest";
import { makeArtifact } from "../../../test/support/artifact-builder.js";
import type { BugArtifact } from "../../ports/artifact.js";
import { checkShape, checkShapeAgainstTree } from "./shape.js";

function fileDiff(path: string, body = "@@ -1 +1 @@\n-old\n+new\n"): string {
  return `diff --git a/${path} b/${path}\nindex 1111111..2222222 100644\n--- a/${path}\n+++ b/${path}\n${body}`;
}

function artifact(overrides: Partial<BugArtifact> = {}): BugArtifact {
  return makeArtifact({
    testScript: "pytest -rA\n",
    testParser: "print('{}')\n",
    testFiles: ["tests/test_a.py", "  "],
    bugInjectDiff: fileDiff("src/a.py") + fileDiff("src/b.py"),
    testWeakenDiff: fileDiff("tests/test_a.py"),
    ...overrides,
  });
}

describe("checkShape", () => {
  it("summarises a well-formed artifact, one bug part per file", () => {
    const outcome = checkShape(artifact());
    expect(outcome.status === "passed" && outcome.summary).toMatchObject({
      bugFiles: ["src/a.py", "src/b.py"],
      bugPaths: ["src/a.py", "src/b.py"],
      weakenFiles: ["tests/test_a.py"],
      oracleFiles: ["tests/test_a.py"],
    });
    expect(
      outcome.status === "passed" && outcome.summary.bugFileDiffs.map((part) => part.diff).join(""),
    ).toBe(fileDiff("src/a.py") + fileDiff("src/b.py"));
  });

  it.each([
    [{ testScript: " \n" }, /test_script.sh is empty/],
    [{ testParser: "" }, /test_parser.py is empty/],
    [{ testFiles: [] }, /lists no file/],
    [{ testWeakenDiff: "" }, /test_weaken.diff is empty/],
    [{ testFiles: ["../tests/x.py"] }, /\.\./],
    [{ bugInjectDiff: fileDiff("src/../../x.py") }, /\.\./],
    [{ bugInjectDiff: fileDiff("tests/test_a.py") }, /oracle/],
    [{ testWeakenDiff: fileDiff("src/a.py") }, /src\/a\.py: the weakening may only touch oracle test files/],
    [{ testScript: "x".repeat(70 * 1024) }, /over the cap/],
  ] as [Partial<BugArtifact>, RegExp][])("rejects %j", (overrides, reason) => {
    const outcome = checkShape(artifact(overrides));
    expect(outcome.status).toBe("failed");
    expect(outcome.status === "failed" && outcome.failure.reason).toMatch(reason);
  });
});

describe("checkShapeAgainstTree", () => {
  it("rejects a diff through a symlink of the tree that leaves the repository, and paths resolving outside", () => {
    const subject = artifact();
    const outcome = checkShape(subject);
    if (outcome.status === "failed") throw new Error(outcome.failure.reason);
    const clean = { symlinks: new Map(), escapes: [], missing: [] };
    expect(checkShapeAgainstTree(subject, outcome.summary, clean)).toBeNull();
    const throughLink = checkShapeAgainstTree(subject, outcome.summary, {
      ...clean,
      symlinks: new Map([["src", "/etc"]]),
    });
    expect(throughLink?.reason).toMatch(
      /src\/a\.py: goes through the symlink src -> "\/etc" out of the repository/,
    );
    const escaping = checkShapeAgainstTree(subject, outcome.summary, {
      ...clean,
      escapes: [{ path: "src/a.py", resolved: "/elsewhere/a.py" }],
    });
    expect(escaping?.reason).toBe(
      "src/a.py resolves to /elsewhere/a.py through a symlink, outside the repository",
    );
  });
});
