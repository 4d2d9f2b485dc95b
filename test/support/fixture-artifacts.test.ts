// Checks the fixture artifacts by hand, without our validator: real git applies the diffs in a
// fixture repository, the artifact's own script and parser run on the host.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BugArtifact } from "../../src/ports/artifact.js";
import {
  type FixtureExpectation,
  NODE_FIXTURE_EXPECTATION,
  nodeFixtureArtifact,
  PYTHON_FIXTURE_EXPECTATION,
  pythonFixtureArtifact,
  withAllPassingParser,
  withSyntaxErrorBug,
  withUnrelatedWeakening,
} from "./fixture-artifacts.js";
import { makeNodeFixtureRepo, makePythonFixtureRepo } from "./fixture-repos.js";
import { makeTempDir } from "./tmp.js";

const temp = makeTempDir("swe-selfplay-fixture-artifacts-");
afterAll(() => temp.remove());

function apply(repo: string, diff: string, reverse = false): void {
  execFileSync("git", ["apply", ...(reverse ? ["-R"] : []), "-"], { cwd: repo, input: diff });
}

function reset(repo: string): void {
  execFileSync("git", ["checkout", "-q", "--", "."], { cwd: repo });
  execFileSync("git", ["clean", "-qfdx"], { cwd: repo });
}

/** Runs test_script.sh in the repository and returns its standard output (the exit code is ignored). */
function runScript(repo: string, artifact: BugArtifact): string {
  const scriptPath = join(temp.path, "test_script.sh");
  writeFileSync(scriptPath, artifact.testScript);
  try {
    return execFileSync("bash", [scriptPath], {
      cwd: repo,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? "");
  }
}

/** Parses test output with the artifact's test_parser.py, from the repository like the validator does. */
function parse(repo: string, artifact: BugArtifact, output: string): Record<string, string> {
  const parserPath = join(temp.path, "test_parser.py");
  writeFileSync(parserPath, artifact.testParser);
  const parsed = execFileSync("python3", [parserPath], { cwd: repo, input: output, encoding: "utf8" });
  return JSON.parse(parsed) as Record<string, string>;
}

function runTests(repo: string, artifact: BugArtifact): Record<string, string> {
  return parse(repo, artifact, runScript(repo, artifact));
}

function notPassing(results: Record<string, string>, baseline: Record<string, string>): string[] {
  return Object.keys(baseline)
    .filter((id) => results[id] !== "passed")
    .sort();
}

const cases: [string, () => BugArtifact, (parent: string) => Promise<string>, FixtureExpectation][] = [
  ["python", pythonFixtureArtifact, makePythonFixtureRepo, PYTHON_FIXTURE_EXPECTATION],
  ["node", nodeFixtureArtifact, makeNodeFixtureRepo, NODE_FIXTURE_EXPECTATION],
];

describe.each(cases)("%s fixture artifact", (_label, makeArtifact, makeRepo, expected) => {
  let repo: string;
  let baseline: Record<string, string>;
  const artifact = makeArtifact();

  beforeAll(async () => {
    repo = await makeRepo(join(temp.path, _label));
    baseline = runTests(repo, artifact);
  });

  it("passes every test on the original code", () => {
    expect(Object.keys(baseline)).toHaveLength(expected.baselineTests);
    expect(new Set(Object.values(baseline))).toEqual(new Set(["passed"]));
    for (const file of artifact.testFiles) execFileSync("test", ["-f", join(repo, file)]);
  });

  it("breaks exactly the expected tests with the bug, and the weakening hides them", () => {
    apply(repo, artifact.bugInjectDiff);
    const output = runScript(repo, artifact);
    expect(notPassing(parse(repo, artifact, output), baseline)).toEqual(expected.f2p);
    // The all-passing parser variant hides the bug on the very same output.
    expect(notPassing(parse(repo, withAllPassingParser(artifact), output), baseline)).toEqual([]);
    apply(repo, artifact.testWeakenDiff);
    const weakened = runTests(repo, artifact);
    expect(Object.values(weakened).every((status) => status === "passed")).toBe(true);
    expect(expected.f2p.filter((id) => id in weakened)).toEqual([]);
    reset(repo);
  });

  it("has a bug in two files, each of which breaks tests of its own", () => {
    expect(expected.fileContributions).toHaveLength(2);
    const sections = artifact.bugInjectDiff.split(/(?=^diff --git )/m);
    for (const contribution of expected.fileContributions) {
      const others = sections.filter((section) => !section.startsWith(`diff --git a/${contribution.file} `));
      apply(repo, others.join(""));
      const restored = expected.f2p.filter(
        (id) => !notPassing(runTests(repo, artifact), baseline).includes(id),
      );
      expect(restored).toEqual(contribution.restoredTests);
      reset(repo);
    }
  });

  it("has broken variants that behave as documented", () => {
    apply(repo, withSyntaxErrorBug(artifact).bugInjectDiff);
    const broken = runTests(repo, artifact);
    expect(Object.keys(baseline).filter((id) => broken[id] === "passed")).toEqual([]);
    reset(repo);

    apply(repo, artifact.bugInjectDiff);
    apply(repo, withUnrelatedWeakening(artifact).testWeakenDiff);
    expect(notPassing(runTests(repo, artifact), baseline).length).toBeGreaterThan(expected.f2p.length);
    reset(repo);
  });
});
