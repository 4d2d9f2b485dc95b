// Validation and grading on a real library, toolz from Debian's source packages, inside Docker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipDocker } from "../../test/support/docker.js";
import { ensureToolzDir, ensureToolzImage } from "../../test/support/toolz.js";
import { toolzArtifacts } from "../../test/support/toolz-artifacts.js";
import { reverseDiff, unwrapDiff } from "../artifact/index.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment, SandboxBackend } from "../ports/sandbox.js";
import { openSandboxes } from "../sandbox/index.js";
import { grade } from "./grade.js";
import { createSolverTask } from "./solver-task.js";
import { createValidator } from "./validator.js";

describe.skipIf(skipDocker())("toolz in Docker", () => {
  let sandboxes: SandboxBackend;
  let validator: ReturnType<typeof createValidator>;
  let environment: Environment;
  let oneFile: BugArtifact;

  beforeAll(async () => {
    environment = { kind: "image", image: await ensureToolzImage() };
    oneFile = toolzArtifacts(await ensureToolzDir()).find((entry) => entry.name === "one-file")!.artifact;
    sandboxes = openSandboxes();
    validator = createValidator({ sandboxes });
  });

  afterAll(async () => {
    await validator?.close();
    await sandboxes?.close();
  });

  it("accepts the one-file artifact and grades the reverse of its bug as resolved", async () => {
    const report = await validator.validate(environment, oneFile);
    expect(report.verdict, report.reason ?? "").toBe("valid");
    expect(report.f2p).toContain("toolz/tests/test_itertoolz.py::test_take");
    expect(report.p2p.length).toBeGreaterThan(100);
    const fixed = await grade({
      sandboxes,
      environment,
      artifact: oneFile,
      report,
      patch: unwrapDiff(reverseDiff(oneFile.bugInjectDiff)),
    });
    expect(fixed.status, fixed.reason ?? "").toBe("resolved");
  });

  it("builds a solver task without history in the container", async () => {
    const task = await createSolverTask({ sandboxes, environment, artifact: oneFile });
    try {
      const log = await task.sandbox.run({
        command: "git log --oneline | wc -l && git status --porcelain | wc -l",
      });
      expect(log.stdout.trim().split("\n")).toEqual(["1", "0"]);
      expect(await task.sandbox.diff()).toBe("");
    } finally {
      await task.sandbox.destroy();
    }
  });
});
