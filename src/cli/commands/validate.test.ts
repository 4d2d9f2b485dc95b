// The validate, grade and task commands through the real CLI, on the Python fixture and its known artifact.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../test/support/cli.js";
import { makePythonFixtureRepo } from "../../../test/support/fixture-repos.js";
import { makeTempDir } from "../../../test/support/tmp.js";
import { reverseDiff, unwrapDiff } from "../../artifact/index.js";
import { examplesRoot } from "../../examples/build.js";
import type { ValidationReport } from "../../ports/validation.js";

let temp: { path: string; remove(): void };
let repo: string;
const artifactDir = join(examplesRoot(), "inkwell", "artifact");

beforeAll(async () => {
  temp = makeTempDir("validate-cli-test-");
  repo = await makePythonFixtureRepo(temp.path);
});

afterAll(() => temp?.remove());

describe("swe-selfplay validate", () => {
  it("prints the report and exits 0 for a valid artifact", async () => {
    const result = await runCli(["validate", artifactDir, "--repo", repo, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as ValidationReport;
    expect(report.verdict).toBe("valid");
    expect(report.checks).toHaveLength(8);
  });

  it("exits 1 for a rejected artifact and names the failed check", async () => {
    const broken = join(temp.path, "broken-artifact");
    cpSync(artifactDir, broken, { recursive: true });
    const listed = readFileSync(join(artifactDir, "test_files.txt"), "utf8");
    writeFileSync(join(broken, "test_files.txt"), `${listed}tests/test_absent.py\n`);
    const result = await runCli(["validate", broken, "--repo", repo]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/verdict\s+invalid \(check "oracle-files" failed/);
    expect(result.stdout).toMatch(/ok\s+shape/);
    expect(result.stdout).toMatch(/tests\/test_absent\.py/);
  });

  it("exits 2 on usage errors", async () => {
    const both = await runCli(["validate", artifactDir, "--repo", repo, "--image", "x"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either --repo/);
    expect((await runCli(["validate", join(temp.path, "nothing-here"), "--repo", repo])).code).toBe(2);
  });
});

describe("swe-selfplay grade and task", () => {
  it("grades the reverse of the bug as resolved (0) and an empty patch as not resolved (1)", async () => {
    const fix = join(temp.path, "fix.diff");
    writeFileSync(fix, unwrapDiff(reverseDiff(readFileSync(join(artifactDir, "bug_inject.diff"), "utf8"))));
    const resolved = await runCli(["grade", artifactDir, fix, "--repo", repo, "--json"]);
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(JSON.parse(resolved.stdout).grade.status).toBe("resolved");
    const empty = join(temp.path, "empty.diff");
    writeFileSync(empty, "");
    const unresolved = await runCli(["grade", artifactDir, empty, "--repo", repo]);
    expect(unresolved.code, unresolved.stderr).toBe(1);
    expect(unresolved.stdout).toMatch(/unresolved/);
  });

  it("writes the solver's starting tree with one fresh commit, and its prompt", async () => {
    const out = join(temp.path, "task");
    const result = await runCli(["task", artifactDir, "--repo", repo, "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(out, "prompt.md"), "utf8")).toContain("/testbed");
    expect(readFileSync(join(out, "specification.diff"), "utf8")).toMatch(/^diff --git/);
    expect(existsSync(join(out, "repo", "tests", "test_case.py"))).toBe(true);
    const log = execFileSync("git", ["-C", join(out, "repo"), "log", "--oneline"], { encoding: "utf8" });
    expect(log.trim().split("\n")).toHaveLength(1);
    // A second time into the same directory: refused, nothing touched, unless --overwrite says so.
    writeFileSync(join(out, "notes.txt"), "mine\n");
    const again = await runCli(["task", artifactDir, "--repo", repo, "--out", out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(
      `--out ${out} already exists and is not empty: choose another directory, or pass --overwrite to replace it`,
    );
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("mine\n");
    const replaced = await runCli(["task", artifactDir, "--repo", repo, "--out", out, "--overwrite"]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(existsSync(join(out, "notes.txt"))).toBe(false);
    expect(existsSync(join(out, "prompt.md"))).toBe(true);
  });

  it("says a missing artifact directory does not exist", async () => {
    const missing = join(temp.path, "no-such-artifact");
    const result = await runCli(["solve", missing, "--repo", repo]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`swe-selfplay: artifact directory ${missing} does not exist`);
  });
});
