import { mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pythonFixtureArtifact } from "../../test/support/fixture-artifacts.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { artifactId, serializeArtifactFiles } from "../artifact/index.js";
import { InputError } from "../errors.js";
import { readArtifactDir, writeArtifactDir } from "./artifact-dir.js";

const temp = makeTempDir("swe-selfplay-artifact-files-");
afterAll(() => temp.remove());
let counter = 0;
const freshDir = () => join(temp.path, `dir-${counter++}`);

/** Writes the artifact's files under the given names (canonical name → name on disk). */
function writeRaw(dir: string, names: Record<string, string> = {}, skip: string[] = []): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(serializeArtifactFiles(pythonFixtureArtifact()))) {
    if (!skip.includes(name)) writeFileSync(join(dir, names[name] ?? name), text);
  }
}

describe("writeArtifactDir and readArtifactDir", () => {
  it("round-trips an artifact with canonical names, an executable script and meta.json", async () => {
    const artifact = pythonFixtureArtifact();
    const dir = freshDir();
    await writeArtifactDir(dir, artifact);
    expect(readdirSync(dir).sort()).toEqual([
      "bug_inject.diff",
      "meta.json",
      "test_files.txt",
      "test_parser.py",
      "test_script.sh",
      "test_weaken.diff",
    ]);
    expect(statSync(join(dir, "test_script.sh")).mode & 0o111).not.toBe(0);
    expect(await readArtifactDir(dir)).toEqual(artifact);
  });

  it("accepts the alternative names agents use", async () => {
    const dir = freshDir();
    writeRaw(dir, {
      "test_parser.py": "parse_test_output.py",
      "bug_inject.diff": "bug_patch.diff",
      "test_weaken.diff": "test_patch.diff",
    });
    const read = await readArtifactDir(dir);
    const expected = pythonFixtureArtifact();
    expect(read.testParser).toBe(expected.testParser);
    expect(read.bugInjectDiff).toBe(expected.bugInjectDiff);
    expect(read.testWeakenDiff).toBe(expected.testWeakenDiff);
    expect(artifactId(read)).toBe(artifactId(expected));
  });

  it("rewrites an agent's directory in place under canonical names only", async () => {
    const dir = freshDir();
    writeRaw(dir, { "bug_inject.diff": "bug_patch.diff", "test_parser.py": "parse_test_output.py" });
    const read = await readArtifactDir(dir);
    await writeArtifactDir(dir, { ...read, bugInjectDiff: `${read.bugInjectDiff}` });
    expect(readdirSync(dir).sort()).not.toContain("bug_patch.diff");
    expect(readdirSync(dir).sort()).not.toContain("parse_test_output.py");
    expect(await readArtifactDir(dir)).toEqual(read);
  });

  it("fills meta defaults when meta.json is absent", async () => {
    const dir = freshDir();
    writeRaw(dir);
    const read = await readArtifactDir(dir, {
      metaDefaults: { environment: "inkwell", createdAt: "2024-01-01T00:00:00Z" },
    });
    expect(read.meta).toEqual({
      environment: "inkwell",
      strategy: "direct",
      order: 1,
      parentId: null,
      policy: "unknown",
      createdAt: "2024-01-01T00:00:00Z",
    });
  });

  it("says a missing artifact directory does not exist, rather than that it lacks a file", async () => {
    const missing = join(temp.path, "no-such-artifact");
    await expect(readArtifactDir(missing)).rejects.toThrow(`artifact directory ${missing} does not exist`);
    const file = join(temp.path, "a-file");
    writeFileSync(file, "x");
    await expect(readArtifactDir(file)).rejects.toThrow(`artifact ${file} is not a directory`);
  });

  it("names the missing file and the names it looked for", async () => {
    const dir = freshDir();
    writeRaw(dir, {}, ["bug_inject.diff"]);
    const error = await readArtifactDir(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(
      /has no bug_inject\.diff \(also looked for bug_patch\.diff\)/,
    );
    expect((error as InputError).data).toMatchObject({ file: "bug_inject.diff" });
  });

  it("refuses two different versions of one file", async () => {
    const dir = freshDir();
    writeRaw(dir);
    writeFileSync(join(dir, "bug_patch.diff"), "something else\n");
    await expect(readArtifactDir(dir)).rejects.toThrow(/both bug_inject\.diff and bug_patch\.diff/);
  });

  it("refuses oversized files, naming file, size and cap", async () => {
    const dir = freshDir();
    writeRaw(dir);
    await expect(readArtifactDir(dir, { limits: { testParser: 100 } })).rejects.toThrow(
      /test_parser\.py is \d+ bytes, over the 100-byte cap/,
    );
  });

  it("refuses symlinks and directories in place of files", async () => {
    const dir = freshDir();
    writeRaw(dir, {}, ["test_script.sh"]);
    symlinkSync("/etc/hostname", join(dir, "test_script.sh"));
    await expect(readArtifactDir(dir)).rejects.toThrow(/test_script\.sh is not a regular file \(a symlink\)/);
    const other = freshDir();
    writeRaw(other, {}, ["test_files.txt"]);
    mkdirSync(join(other, "test_files.txt"));
    await expect(readArtifactDir(other)).rejects.toThrow(
      /test_files\.txt is not a regular file \(a directory\)/,
    );
  });

  it("reports invalid meta.json with the field", async () => {
    const dir = freshDir();
    writeRaw(dir);
    writeFileSync(join(dir, "meta.json"), JSON.stringify({ order: 3 }));
    await expect(readArtifactDir(dir)).rejects.toThrow(/meta\.json: order/);
    writeFileSync(join(dir, "meta.json"), "{not json");
    await expect(readArtifactDir(dir)).rejects.toThrow(/meta\.json is not JSON/);
    writeFileSync(join(dir, "meta.json"), JSON.stringify({ surprise: true }));
    await expect(readArtifactDir(dir)).rejects.toThrow(/surprise/);
  });
});
