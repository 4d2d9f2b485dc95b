import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pythonFixtureArtifact, withMeta } from "../../test/support/fixture-artifacts.js";
import { parseTestFiles, serializeArtifactFiles } from "./artifact-files.js";
import { artifactId } from "./artifact-id.js";

describe("serializeArtifactFiles and parseTestFiles", () => {
  it("writes test_files.txt one path a line and reads it back without blanks", () => {
    const files = serializeArtifactFiles(pythonFixtureArtifact());
    expect(files["test_files.txt"]).toBe(
      readFileSync(join(import.meta.dirname, "../../examples/inkwell/artifact/test_files.txt"), "utf8"),
    );
    expect(parseTestFiles(" a.py \r\n\n b.py\n")).toEqual(["a.py", "b.py"]);
    expect(serializeArtifactFiles({ ...pythonFixtureArtifact(), testFiles: [] })["test_files.txt"]).toBe("");
  });
});

describe("artifactId", () => {
  it("is a stable sha256 of the five files", () => {
    const artifact = pythonFixtureArtifact();
    expect(artifactId(artifact)).toMatch(/^[0-9a-f]{64}$/);
    expect(artifactId(artifact)).toBe(artifactId(pythonFixtureArtifact()));
    // Pinned: a change here changes every stored id.
    expect(
      artifactId({
        ...artifact,
        testScript: "a",
        testFiles: ["b"],
        testParser: "c",
        bugInjectDiff: "d",
        testWeakenDiff: "e",
      }),
    ).toBe("af095db1f31a7af0ee8a652273cb90c720f4fe5cd5802fd2df4310c5d7aee5d9");
  });

  it("ignores meta and changes with any file", () => {
    const artifact = pythonFixtureArtifact();
    const id = artifactId(artifact);
    expect(artifactId(withMeta(artifact, { policy: "other", order: 2, parentId: "x" }))).toBe(id);
    for (const change of [
      { testScript: `${artifact.testScript} ` },
      { testFiles: artifact.testFiles.slice(1) },
      { testParser: `${artifact.testParser}#` },
      { bugInjectDiff: "" },
      { testWeakenDiff: "" },
    ]) {
      expect(artifactId({ ...artifact, ...change })).not.toBe(id);
    }
  });

  it("cannot be fooled by moving text between files", () => {
    const base = { ...pythonFixtureArtifact(), testScript: "ab", testParser: "c" };
    expect(artifactId(base)).not.toBe(artifactId({ ...base, testScript: "a", testParser: "bc" }));
  });
});
