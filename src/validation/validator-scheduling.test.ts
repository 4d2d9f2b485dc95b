// The validator's scheduling and caching on the Python fixture in local bubblewrap sandboxes: a failing check
// aborts the runs in flight, validations share a baseline in flight, an aborted validation is not cached.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PYTEST_SCRIPT } from "../../test/support/artifact-builder.js";
import {
  expectFailure,
  type Inkwell,
  KEBAB_BUG,
  KEBAB_WEAKEN,
  openInkwell,
  SLUG_BUG,
  SLUG_WEAKEN,
} from "../../test/support/inkwell.js";
import type { Environment, SandboxBackend } from "../ports/sandbox.js";
import { createValidator } from "./validator.js";

let inkwell: Inkwell;
let environment: Environment;
let sandboxes: SandboxBackend;
let artifact: Inkwell["artifact"];
let validator: ReturnType<typeof createValidator>;

beforeAll(async () => {
  inkwell = await openInkwell("validator-scheduling-test-");
  ({ environment, sandboxes, artifact } = inkwell);
  validator = createValidator({ sandboxes, concurrency: 4 });
});

afterAll(async () => {
  await validator?.close();
  await inkwell?.close();
});

describe("sharing and aborting", () => {
  it("a failing check aborts the runs in flight, and close() stops a baseline left running", async () => {
    const patient = createValidator({ sandboxes, thresholds: { testTimeoutMs: 300_000 } });
    const startedAt = Date.now();
    try {
      const report = await patient.validate(
        environment,
        artifact([KEBAB_BUG], [KEBAB_WEAKEN], {
          testScript: "#!/bin/bash\nsleep 600\n",
          testFiles: ["tests/test_case.py", "tests/test_slug.py", "tests/test_gone.py"],
        }),
      );
      expectFailure(report, "oracle-files", /tests\/test_gone\.py/);
    } finally {
      await patient.close();
    }
    expect(Date.now() - startedAt).toBeLessThan(60_000);
  });

  it("two validations on one environment share one baseline in flight", async () => {
    const fresh = createValidator({ sandboxes });
    try {
      const [first, second] = await Promise.all([
        fresh.validate(environment, artifact([KEBAB_BUG], [KEBAB_WEAKEN])),
        fresh.validate(environment, artifact([SLUG_BUG], [SLUG_WEAKEN])),
      ]);
      expect([first.verdict, second.verdict]).toEqual(["valid", "valid"]);
      const baselineRuns = [...first.testRuns, ...second.testRuns].filter((run) =>
        run.label.startsWith("baseline"),
      );
      expect(baselineRuns.filter((run) => !run.cached)).toHaveLength(2);
      expect(baselineRuns.filter((run) => run.cached)).toHaveLength(2);
    } finally {
      await fresh.close();
    }
  });

  it("an aborted validation rejects and is not cached", async () => {
    // A script of its own, so the baseline is not cached and the abort lands while runs are in flight.
    const subject = artifact([KEBAB_BUG], [KEBAB_WEAKEN], { testScript: `${PYTEST_SCRIPT}# aborted once\n` });
    const controller = new AbortController();
    const pending = validator.validate(environment, subject, { abortSignal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop now")), 300);
    await expect(pending).rejects.toThrow("stop now");
    const again = await validator.validate(environment, subject);
    expect(again.verdict, again.reason ?? "").toBe("valid");
    expect(again.testRuns.filter((run) => run.label.startsWith("baseline") && !run.cached)).toHaveLength(2);
  });
});
