// The proposer on the JavaScript fixture (node:test, local sandboxes): every strategy yields an artifact the
// real validator accepts, with `it` cases removed as the weakening.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BuiltinHarness,
  filesOf,
  openHarness,
  proposeOn,
  submitted,
} from "../../../test/builtin/harness.js";
import { makeNodeFixtureRepo } from "../../../test/support/fixture-repos.js";
import type { Environment } from "../../ports/sandbox.js";
import { createBuiltinPolicy } from "../index.js";

// Real sandboxes and test suites: generous on a loaded machine, a fraction of it on an idle one.
const SLOW = { timeout: 600_000 };
let harness: BuiltinHarness;
let node: Environment;

beforeAll(async () => {
  harness = openHarness();
  node = { kind: "dir", path: await makeNodeFixtureRepo(harness.temp.path) };
});

afterAll(async () => {
  await harness?.close();
});

describe("builtin proposer on the JavaScript fixture", SLOW, () => {
  const policy = createBuiltinPolicy({ multiFileRate: 0 });

  it.each(["direct", "removal", "history"] as const)(
    "yields a %s artifact the validator accepts",
    async (strategy) => {
      const artifact = submitted(await proposeOn(harness, node, strategy, 2, policy));
      expect(artifact.meta.strategy).toBe(strategy);
      expect(filesOf(artifact.bugInjectDiff).every((file) => file.startsWith("src/"))).toBe(true);
      expect(artifact.testWeakenDiff).toMatch(/^-\s*(it|test)\(/m);
      const report = await harness.validator.validate(node, artifact);
      expect(report.verdict, report.reason ?? "").toBe("valid");
    },
  );
});
