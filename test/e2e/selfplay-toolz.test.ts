// End to end on a real library: the built-in policy plays one small step on toolz in Docker through the
// CLI; the store it leaves obeys the run invariants.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runInvariantViolations } from "../../src/selfplay/invariants.js";
import { openStore } from "../../src/store/index.js";
import { runCli } from "../support/cli.js";
import { skipDocker } from "../support/docker.js";
import { makeTempDir } from "../support/tmp.js";
import { ensureToolzImage } from "../support/toolz.js";

describe.skipIf(skipDocker())("self-play on toolz in Docker with the built-in policy", () => {
  const temp = makeTempDir("swe-selfplay-toolz-");
  let image: string;
  beforeAll(async () => {
    image = await ensureToolzImage();
  });
  afterAll(() => temp.remove());

  it("runs a bounded job and records a consistent run", { timeout: 600_000 }, async () => {
    const store = join(temp.path, "store.db");
    // Small: one step, G = 2, a repair budget of 4 test runs, no second-order bugs.
    const result = await runCli(
      [
        "run",
        ...[
          "--image",
          `toolz=${image}`,
          "--store",
          store,
          "--steps",
          "1",
          "--group-size",
          "2",
          "--no-second-order",
        ],
        ...["--set", "policy.kind=builtin", "--set", "policy.testRunBudget=4", "--no-progress", "--json"],
      ],
      { timeoutMs: 590_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ status: "completed", steps: { total: 1, unfinished: 0 } });
    expect(summary.steps.done + summary.steps.failed).toBe(1);
    const opened = openStore(store);
    try {
      const run = opened.latestRun()!;
      expect(runInvariantViolations(opened, run.id)).toEqual([]);
      expect(opened.listEnvironments(run.id)).toMatchObject([{ name: "toolz", status: "active" }]);
    } finally {
      opened.close();
    }
  });
});
