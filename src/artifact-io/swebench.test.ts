import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PYTHON_FIXTURE_EXPECTATION,
  pythonFixtureArtifact,
  withExtraIrrelevantFile,
} from "../../test/support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { artifactId } from "../artifact/index.js";
import { toSweBenchInstance } from "./swebench.js";

const temp = makeTempDir("swe-selfplay-swebench-");
let repo: string;
beforeAll(async () => {
  repo = await makePythonFixtureRepo(temp.path);
});
afterAll(() => temp.remove());

const git = (args: string[], input?: string) =>
  execFileSync("git", args, { cwd: repo, input, encoding: "utf8" });

describe("toSweBenchInstance", () => {
  it("builds the SWE-bench fields from an artifact and its test lists", () => {
    const artifact = pythonFixtureArtifact();
    const instance = toSweBenchInstance({
      artifact,
      repo: "examples/inkwell",
      failToPass: PYTHON_FIXTURE_EXPECTATION.f2p,
      passToPass: ["tests/test_slug.py::test_slugify_simple"],
      baseCommit: git(["rev-parse", "HEAD"]).trim(),
    });
    expect(instance.instance_id).toBe(`examples__inkwell-${artifactId(artifact).slice(0, 12)}`);
    expect(JSON.parse(instance.FAIL_TO_PASS)).toEqual(PYTHON_FIXTURE_EXPECTATION.f2p);
    expect(JSON.parse(instance.PASS_TO_PASS)).toEqual(["tests/test_slug.py::test_slugify_simple"]);
    expect(instance.base_commit).toMatch(/^[0-9a-f]{40}$/);
    expect(instance.environment_setup_commit).toBe(instance.base_commit);
    expect(instance.created_at).toBe(artifact.meta.createdAt);
    expect(instance.problem_statement).toContain(instance.test_patch.trimEnd());
    expect(instance.test_files).toEqual(artifact.testFiles);
  });

  it("gives a patch that fixes the buggy state and a test patch that restores the oracle tests", () => {
    const artifact = pythonFixtureArtifact();
    const instance = toSweBenchInstance({ artifact, repo: "inkwell", failToPass: [], passToPass: [] });
    const original = git(["rev-parse", "HEAD^{tree}"]).trim();
    git(["apply", "--index", "-"], artifact.bugInjectDiff);
    git(["apply", "--index", "-"], artifact.testWeakenDiff);
    git(["apply", "--index", "-"], instance.test_patch);
    git(["apply", "--index", "-"], instance.patch);
    expect(git(["write-tree"]).trim()).toBe(original);
    git(["reset", "-q", "--hard"]);
  });

  it("omits base_commit when unknown and reverses created files in the patch", () => {
    const instance = toSweBenchInstance({
      artifact: withExtraIrrelevantFile(pythonFixtureArtifact()),
      repo: "inkwell",
      failToPass: [],
      passToPass: [],
      instanceId: "custom-1",
      problemStatement: "Fix it.",
    });
    expect("base_commit" in instance).toBe(false);
    expect(instance.instance_id).toBe("custom-1");
    expect(instance.problem_statement).toBe("Fix it.");
    expect(instance.patch).toMatch(/deleted file mode 100644\n--- a\/NOTES\.txt\n\+\+\+ \/dev\/null/);
  });
});
