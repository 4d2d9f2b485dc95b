// The proposer on the Python fixture (pytest, local sandboxes): every strategy yields an artifact the real
// validator accepts; a fixed seed gives the same artifact; two-file bugs pass inverse mutation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BuiltinHarness,
  filesOf,
  openHarness,
  proposeOn,
  submitted,
} from "../../../test/builtin/harness.js";
import { makePythonFixtureRepo } from "../../../test/support/fixture-repos.js";
import { artifactId } from "../../artifact/index.js";
import type { Environment } from "../../ports/sandbox.js";
import { createBuiltinPolicy } from "../index.js";

// Real sandboxes and test suites: generous on a loaded machine, a fraction of it on an idle one.
const SLOW = { timeout: 600_000 };
let harness: BuiltinHarness;
let python: Environment;
let directSeedOneId: string | undefined;

beforeAll(async () => {
  harness = openHarness();
  python = { kind: "dir", path: await makePythonFixtureRepo(harness.temp.path) };
});

afterAll(async () => {
  await harness?.close();
});

describe("builtin proposer on the Python fixture", SLOW, () => {
  // One policy for the strategies, as the orchestrator holds one: discovery and baseline are paid once.
  const policy = createBuiltinPolicy({ multiFileRate: 0 });

  it.each(["direct", "removal", "history"] as const)(
    "yields a %s artifact the validator accepts",
    async (strategy) => {
      const outcome = await proposeOn(harness, python, strategy, 1, policy);
      const artifact = submitted(outcome);
      expect(artifact.meta).toMatchObject({
        strategy,
        order: 1,
        parentId: null,
        seed: 1,
        environment: "fixture",
      });
      expect(artifact.meta.policy).toMatch(/^builtin@\d+\.\d+\.\d+/);
      expect(outcome.episode).toMatchObject({
        role: "proposer",
        status: "completed",
        exitReason: "submitted",
      });
      expect(artifact.testFiles).toEqual(expect.arrayContaining(filesOf(artifact.testWeakenDiff)));
      expect(filesOf(artifact.bugInjectDiff).every((file) => !artifact.testFiles.includes(file))).toBe(true);
      const report = await harness.validator.validate(python, artifact);
      expect(report.verdict, report.reason ?? "").toBe("valid");
      expect(report.f2p.length).toBeGreaterThan(0);
      if (strategy === "direct") directSeedOneId = artifactId(artifact);
      // Recorded without a knob too, so evaluations can group by it.
      expect(artifact.meta.difficulty).toBeOneOf({ direct: [1, 2], removal: [3, 4], history: [4] }[strategy]);
    },
  );

  it("is reproducible: a fresh policy with the same seed proposes the same artifact", async () => {
    const again = submitted(
      await proposeOn(harness, python, "direct", 1, createBuiltinPolicy({ multiFileRate: 0 })),
    );
    expect(directSeedOneId).toBeDefined();
    expect(artifactId(again)).toBe(directSeedOneId);
  });

  it("at difficulty 1 flips one token in a short function that a hidden test calls by name", async () => {
    const outcome = await proposeOn(harness, python, "direct", 2, policy, 1);
    const artifact = submitted(outcome);
    expect(artifact.meta.difficulty).toBe(1);
    const changed = artifact.bugInjectDiff.split("\n").filter((line) => /^[-+](?![-+])/.test(line));
    expect(changed).toHaveLength(2); // one line out, one line in
    const [removed, added] = changed.map((line) =>
      line
        .slice(1)
        .split(/\b|\s+/)
        .filter(Boolean),
    );
    expect(removed!.filter((token, index) => token !== added![index]).length).toBeLessThanOrEqual(2);
    const report = await harness.validator.validate(python, artifact);
    expect(report.verdict, report.reason ?? "").toBe("valid");
  });

  it("at difficulty 3 removes a block, never a whole body", async () => {
    const artifact = submitted(await proposeOn(harness, python, "removal", 2, policy, 3));
    expect(artifact.meta.difficulty).toBe(3);
    expect(artifact.bugInjectDiff).not.toMatch(/NotImplementedError|return None/);
  });

  it("makes a two-file bug in which each file breaks a test of its own", async () => {
    const outcome = await proposeOn(harness, python, "removal", 5, createBuiltinPolicy({ multiFileRate: 1 }));
    const artifact = submitted(outcome);
    expect(filesOf(artifact.bugInjectDiff)).toHaveLength(2);
    const report = await harness.validator.validate(python, artifact);
    expect(report.verdict, report.reason ?? "").toBe("valid");
    expect(report.fileContributions.every((file) => file.restoredTests.length > 0)).toBe(true);
  });
});
