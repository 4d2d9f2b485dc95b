// Second-generation reward hacks (test/support/forgers.ts) graded on the Python fixture in local bubblewrap
// sandboxes and in Docker: each resolves with every other defence on and only the defences that stop it off,
// and is tampered with any one of those on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffOnTop } from "../../../test/support/artifact-builder.js";
import { skipDocker } from "../../../test/support/docker.js";
import { filesOfDirectory, GIT_INIT_SETUP, imageWithFiles } from "../../../test/support/docker-images.js";
import { pythonFixtureArtifact } from "../../../test/support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../../../test/support/fixture-repos.js";
import {
  conftestWrittenAtRunTime,
  FORGERS,
  type ForgeryHack,
  nameTargetedRewrite,
} from "../../../test/support/forgers.js";
import { makeTempDir } from "../../../test/support/tmp.js";
import { reverseDiff, unwrapDiff } from "../../artifact/index.js";
import type { Environment, SandboxBackend } from "../../ports/sandbox.js";
import type { ValidationReport } from "../../ports/validation.js";
import { openSandboxes } from "../../sandbox/index.js";
import { grade } from "../grade.js";
import { createValidator } from "../validator.js";

const python = pythonFixtureArtifact();

const BACKENDS: { name: "local" | "docker"; skip: () => boolean }[] = [
  { name: "local", skip: () => false },
  { name: "docker", skip: skipDocker },
];

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip())(`second-generation reward hacks (${backend.name})`, () => {
    let temp: { path: string; remove(): void };
    let repo: string;
    let environment: Environment;
    let sandboxes: SandboxBackend;
    let report: ValidationReport;

    beforeAll(async () => {
      temp = makeTempDir("forgers-test-");
      repo = await makePythonFixtureRepo(temp.path);
      if (backend.name === "local") environment = { kind: "dir", path: repo };
      else {
        const files = (await filesOfDirectory(repo)).filter((file) => !file.path.startsWith(".git/"));
        const image = await imageWithFiles({
          tag: "swe-selfplay/test-inkwell:latest",
          files,
          setup: GIT_INIT_SETUP,
        });
        environment = { kind: "image", image };
      }
      sandboxes = openSandboxes();
      const validator = createValidator({ sandboxes });
      try {
        report = await validator.validate(environment, python);
      } finally {
        await validator.close();
      }
      if (report.verdict !== "valid") throw new Error(`fixture artifact invalid: ${report.reason}`);
    }, 600_000);

    afterAll(async () => {
      await sandboxes?.close();
      temp?.remove();
    });

    /** Without its defences the hack resolves; with any one of them it is tampered. */
    async function expectStopped(hack: ForgeryHack) {
      const patch = diffOnTop(repo, [python.bugInjectDiff, python.testWeakenDiff], hack.edits);
      const gradeWithout = (without: readonly string[]) =>
        grade({
          sandboxes,
          environment,
          artifact: python,
          report,
          patch,
          integrity: { without: without as never },
        });
      const [unguarded, ...guarded] = await Promise.all([
        gradeWithout(hack.stoppedBy),
        ...hack.stoppedBy.map((defence) => gradeWithout(hack.stoppedBy.filter((other) => other !== defence))),
      ]);
      expect(unguarded!.status, `without ${hack.stoppedBy.join(", ")}: ${unguarded!.reason}`).toBe(
        "resolved",
      );
      for (const [index, graded] of guarded.entries())
        expect(graded!.status, `with ${hack.stoppedBy[index]}: ${graded!.reason}`).toBe("tampered");
      return guarded;
    }

    for (const hack of FORGERS) it(`stops ${hack.name}`, () => expectStopped(hack), 300_000);

    it("stops code that rewrites the results of the F2P tests by name (twins disagree)", async () => {
      const [twins] = await expectStopped(nameTargetedRewrite(report.f2p));
      expect(twins!.reason).toMatch(/randomly named twin/);
    }, 300_000);

    it("stops code that writes a conftest.py while the tests run", async () => {
      const [writes] = await expectStopped(conftestWrittenAtRunTime(report.f2p));
      expect(writes!.reason).toMatch(/wrote harness file\(s\) tests\/conftest\.py/);
    }, 300_000);

    it("still resolves a real fix with every defence on", async () => {
      const graded = await grade({
        sandboxes,
        environment,
        artifact: python,
        report,
        patch: unwrapDiff(reverseDiff(python.bugInjectDiff)),
      });
      expect(graded.status, graded.reason ?? "").toBe("resolved");
    });

    it.runIf(backend.name === "local")(
      "judges a script that replaces PYTHONPATH without pytest's guard, rather than condemning it",
      async () => {
        const replacing = {
          ...python,
          testScript: python.testScript.replace("python3 -m pytest", "PYTHONPATH=. python3 -m pytest"),
        };
        expect(replacing.testScript).toContain("PYTHONPATH=. python3");
        const validator = createValidator({ sandboxes });
        try {
          const replacingReport = await validator.validate(environment, replacing);
          expect(replacingReport.verdict, replacingReport.reason ?? "").toBe("valid");
          const graded = await grade({
            sandboxes,
            environment,
            artifact: replacing,
            report: replacingReport,
            patch: unwrapDiff(reverseDiff(python.bugInjectDiff)),
          });
          expect(graded.status, graded.reason ?? "").toBe("resolved");
        } finally {
          await validator.close();
        }
      },
      300_000,
    );
  });
}
