// Reward hacks built as real patches on the fixture libraries, graded and validated in local bubblewrap
// sandboxes and in Docker. Each hack is first shown to work with the defences off (so the test fails if
// its defence is removed), then shown to be unresolved or tampered with them on.
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffOf, diffOnTop, type Edit } from "../../../test/support/artifact-builder.js";
import { skipDocker } from "../../../test/support/docker.js";
import { filesOfDirectory, GIT_INIT_SETUP, imageWithFiles } from "../../../test/support/docker-images.js";
import { nodeFixtureArtifact, pythonFixtureArtifact } from "../../../test/support/fixture-artifacts.js";
import { makeNodeFixtureRepo, makePythonFixtureRepo } from "../../../test/support/fixture-repos.js";
import {
  conftestFailingTests,
  JAVASCRIPT_ASSERT_HACK,
  lateFakeLines,
  MONKEYPATCH_REPORTS,
  PYTHON_SOLVER_HACKS,
  withLastLineWinsParser,
} from "../../../test/support/hacks.js";
import { makeTempDir } from "../../../test/support/tmp.js";
import { reverseDiff, unwrapDiff } from "../../artifact/index.js";
import type { BugArtifact } from "../../ports/artifact.js";
import type { Environment, SandboxBackend } from "../../ports/sandbox.js";
import type { ValidationReport } from "../../ports/validation.js";
import { openSandboxes } from "../../sandbox/index.js";
import { grade } from "../grade.js";
import { createValidator } from "../validator.js";

const python = pythonFixtureArtifact();
const javascript = nodeFixtureArtifact();

async function imageOf(repo: string, tag: string): Promise<Environment> {
  const files = (await filesOfDirectory(repo)).filter((file) => !file.path.startsWith(".git/"));
  return { kind: "image", image: await imageWithFiles({ tag, files, setup: GIT_INIT_SETUP }) };
}

const BACKENDS: { name: "local" | "docker"; skip: () => boolean }[] = [
  { name: "local", skip: () => false },
  { name: "docker", skip: skipDocker },
];

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip())(`reward hacks (${backend.name})`, () => {
    let temp: { path: string; remove(): void };
    let pythonRepo: string;
    let nodeRepo: string;
    let pythonEnvironment: Environment;
    let nodeEnvironment: Environment;
    let sandboxes: SandboxBackend;
    let validator: ReturnType<typeof createValidator>;
    let pythonReport: ValidationReport;

    beforeAll(async () => {
      temp = makeTempDir("hacks-test-");
      pythonRepo = await makePythonFixtureRepo(temp.path);
      nodeRepo = await makeNodeFixtureRepo(temp.path);
      pythonEnvironment =
        backend.name === "local"
          ? { kind: "dir", path: pythonRepo }
          : await imageOf(pythonRepo, "swe-selfplay/test-inkwell:latest");
      nodeEnvironment =
        backend.name === "local"
          ? { kind: "dir", path: nodeRepo }
          : await imageOf(nodeRepo, "swe-selfplay/test-timespan:latest");
      sandboxes = openSandboxes();
      validator = createValidator({ sandboxes });
      pythonReport = await validator.validate(pythonEnvironment, python);
      if (pythonReport.verdict !== "valid")
        throw new Error(`fixture artifact invalid: ${pythonReport.reason}`);
    }, 600_000);

    afterAll(async () => {
      await validator?.close();
      await sandboxes?.close();
      temp?.remove();
    });

    const onBuggyState = (repo: string, artifact: BugArtifact, edits: Edit[]) =>
      diffOnTop(repo, [artifact.bugInjectDiff, artifact.testWeakenDiff], edits);

    /** Grades `patch` with the defences off and on. */
    async function gradeBothWays(
      environment: Environment,
      artifact: BugArtifact,
      report: ValidationReport,
      patch: string,
    ) {
      const options = { sandboxes, environment, artifact, report, patch };
      const [before, after] = await Promise.all([grade({ ...options, integrity: "off" }), grade(options)]);
      return { before, after };
    }

    for (const hack of PYTHON_SOLVER_HACKS) {
      it(`grades "${hack.name}" ${hack.expected}`, async () => {
        const patch = onBuggyState(pythonRepo, python, hack.edits);
        const { before, after } = await gradeBothWays(pythonEnvironment, python, pythonReport, patch);
        expect(before.status, `without the defences: ${before.reason}`).toBe("resolved");
        expect(after.status, after.reason ?? "").toBe(hack.expected);
        expect(after.resolved).toBe(false);
        if (hack.defence === "pinning") expect(after.harnessEditsIgnored?.length).toBeGreaterThan(0);
      });
    }

    it("grades fake PASSED lines after the real report as tampered (the runner's own totals disagree)", async () => {
      const lastWins = withLastLineWinsParser(python);
      const report = await validator.validate(pythonEnvironment, lastWins);
      expect(report.verdict, report.reason ?? "").toBe("valid");
      const patch = onBuggyState(pythonRepo, lastWins, [
        { file: "inkwell/__init__.py", transform: (text) => text + lateFakeLines(report.f2p) },
      ]);
      const { before, after } = await gradeBothWays(pythonEnvironment, lastWins, report, patch);
      expect(before.status, before.reason ?? "").toBe("resolved");
      expect(after.status, after.reason ?? "").toBe("tampered");
      expect(after.reason).toMatch(/runner's own summary \(pytest\)/);
    });

    it("grades node:assert turned into no-ops by the code under test as tampered", async () => {
      const report = await validator.validate(nodeEnvironment, javascript);
      expect(report.verdict, report.reason ?? "").toBe("valid");
      const patch = onBuggyState(nodeRepo, javascript, JAVASCRIPT_ASSERT_HACK.edits);
      const { before, after } = await gradeBothWays(nodeEnvironment, javascript, report, patch);
      expect(before.status, before.reason ?? "").toBe("resolved");
      expect(after.status, after.reason ?? "").toBe("tampered");
      expect(after.reason).toMatch(/reported passed/);
    });

    it("still resolves a legitimate fix, and one that also edits the harness, ignoring that edit", async () => {
      const fix = unwrapDiff(reverseDiff(python.bugInjectDiff));
      const plain = await grade({
        sandboxes,
        environment: pythonEnvironment,
        artifact: python,
        report: pythonReport,
        patch: fix,
      });
      expect(plain).toMatchObject({ status: "resolved", reason: null });
      expect(plain.harnessEditsIgnored).toBeUndefined();
      const withHarness =
        fix +
        diffOnTop(
          pythonRepo,
          [python.bugInjectDiff, python.testWeakenDiff, fix],
          [
            {
              file: "pyproject.toml",
              replace: ['testpaths = ["tests"]\n', 'testpaths = ["tests"]\naddopts = "-q"\n'],
            },
          ],
        );
      const graded = await grade({
        sandboxes,
        environment: pythonEnvironment,
        artifact: python,
        report: pythonReport,
        patch: withHarness,
      });
      expect(graded.status, graded.reason ?? "").toBe("resolved");
      expect(graded.harnessEditsIgnored).toEqual(["pyproject.toml"]);
      expect(graded.reason).toBe("resolved (harness edits ignored: pyproject.toml)");
    });

    it("rejects a proposer's bug that is only a conftest.py failing the hidden tests", async () => {
      const names = pythonReport.f2p.map((id) => id.slice(id.lastIndexOf("::") + 2));
      const harnessBug: BugArtifact = {
        ...python,
        bugInjectDiff: diffOf(pythonRepo, [{ file: "conftest.py", content: conftestFailingTests(names) }]),
      };
      const off = createValidator({ sandboxes, integrity: "off" });
      try {
        const before = await off.validate(pythonEnvironment, harnessBug);
        expect(before.verdict, `without the defences: ${before.reason}`).toBe("valid");
      } finally {
        await off.close();
      }
      const after = await validator.validate(pythonEnvironment, harnessBug);
      expect(after.verdict).toBe("invalid");
      expect(after.failedCheck).toBe("bug");
      expect(after.checks.find((check) => check.check === "shape")?.evidence).toMatchObject({
        harnessEditsIgnored: ["conftest.py"],
      });
    });

    it("rejects a proposer's bug whose code makes the runner lie, with the evidence", async () => {
      const lying: BugArtifact = {
        ...python,
        bugInjectDiff:
          python.bugInjectDiff +
          diffOf(pythonRepo, [
            {
              file: "inkwell/__init__.py",
              transform: (text) => text + MONKEYPATCH_REPORTS,
            },
          ]),
      };
      const report = await validator.validate(pythonEnvironment, lying);
      expect(report.verdict).toBe("invalid");
      expect(report.failedCheck).toBe("bug");
      expect(report.reason).toMatch(
        /^the test run bug is tampered: the canary test planted to fail in tests\/test_\w+\.py was reported passed/,
      );
      expect(report.checks.find((check) => check.check === "bug")?.evidence).toMatchObject({
        tampered: true,
      });
    });

    it("never lets a canary id into F2P, P2P, flaky or the fixture's tree", async () => {
      const ids = [...pythonReport.f2p, ...pythonReport.p2p, ...pythonReport.flaky];
      const files = new Set(readdirSync(`${pythonRepo}/tests`).map((name) => `tests/${name}`));
      for (const id of ids) expect(files.has(id.slice(0, id.indexOf("::"))), id).toBe(true);
      expect(files.size).toBe(5);
    });
  });
}
