// The repair solver on real solver tasks (history stripped, specification only): it resolves simple direct
// bugs, fails removal bugs, stays within its test-run budget and returns code changes only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BuiltinHarness,
  filesOf,
  openHarness,
  proposeOn,
  solveAndGrade,
  submitted,
} from "../../../test/builtin/harness.js";
import { diffOf, fixtureFile, makeArtifact, PYTEST_SCRIPT } from "../../../test/support/artifact-builder.js";
import { makeNodeFixtureRepo, makePythonFixtureRepo } from "../../../test/support/fixture-repos.js";
import type { Environment } from "../../ports/sandbox.js";
import { createBuiltinPolicy } from "../index.js";

// Real sandboxes and test suites: generous on a loaded machine, a fraction of it on an idle one.
const SLOW = { timeout: 600_000 };
let harness: BuiltinHarness;
let python: Environment;
let node: Environment;

beforeAll(async () => {
  harness = openHarness();
  python = { kind: "dir", path: await makePythonFixtureRepo(harness.temp.path) };
  node = { kind: "dir", path: await makeNodeFixtureRepo(harness.temp.path) };
});

afterAll(async () => {
  await harness?.close();
});

describe("builtin repair solver", SLOW, () => {
  const proposer = createBuiltinPolicy({ multiFileRate: 0 });

  it.each([
    ["Python", () => python],
    ["JavaScript", () => node],
  ])("resolves a simple direct bug on the %s fixture", async (_name, environmentOf) => {
    const environment = environmentOf();
    const artifact = submitted(await proposeOn(harness, environment, "direct", 3, proposer));
    const { solved, result } = await solveAndGrade(harness, environment, artifact, 1, { explorationRate: 0 });
    expect(result.status, JSON.stringify(solved.episode.trajectory.slice(-4))).toBe("resolved");
    expect(solved.episode).toMatchObject({ role: "solver", status: "completed", exitReason: "submitted" });
    expect(solved.episode.stats.testRuns).toBeLessThanOrEqual(20);
    // Code files only: the specification's tests are back as the task gave them.
    expect(filesOf(solved.patch).every((file) => !artifact.testFiles.includes(file))).toBe(true);
  });

  it("stops after one test run when the failing tests name a function whose body was removed", async () => {
    const path = (python as { path: string }).path;
    const artifact = makeArtifact({
      testScript: PYTEST_SCRIPT,
      testParser: fixtureFile("pytest-parser.py"),
      testFiles: ["tests/test_case.py"],
      bugInjectDiff: diffOf(path, [
        {
          file: "inkwell/case.py",
          replace: ['    return "-".join(word.lower() for word in split_words(text))', "    return None"],
        },
      ]),
      testWeakenDiff: diffOf(path, [
        {
          file: "tests/test_case.py",
          removeLines:
            'def test_to_kebab():\n    assert to_kebab("parseHttpRequest") == "parse-http-request"\n\n\n',
        },
      ]),
    });
    const { solved, result } = await solveAndGrade(harness, python, artifact, 1, { testRunBudget: 20 });
    expect(result.resolved).toBe(false);
    expect(solved.episode).toMatchObject({ status: "failed", exitReason: "unimplemented-function" });
    expect(solved.episode.stats.testRuns).toBe(1);
  });

  it("fails a removal bug, within a small budget", async () => {
    const artifact = submitted(await proposeOn(harness, python, "removal", 3, proposer));
    const { solved, result } = await solveAndGrade(harness, python, artifact, 1, { testRunBudget: 6 });
    expect(result.resolved).toBe(false);
    expect(solved.episode.stats.testRuns).toBeLessThanOrEqual(6);
  });
});
