// The summary table ends with the command that opens the dashboard on the run's store, quoted for a shell.
import { describe, expect, it } from "vitest";
import { formatSummary, type RunSummary } from "./summary.js";

function summary(store: string): RunSummary {
  return {
    runId: "run-1",
    status: "completed",
    store,
    starts: 1,
    steps: { total: 0, done: 0, failed: 0, unfinished: 0 },
    artifacts: {
      valid: 0,
      invalid: 0,
      noArtifact: 0,
      failedChecks: {},
      duplicate: 0,
      duplicates: { identical: 0, semantic: 0 },
      distinctBugs: 0,
    },
    secondOrder: { candidates: 0, valid: 0, invalid: 0, noArtifact: 0, error: 0 },
    groups: { graded: 0, firstOrder: 0, secondOrder: 0, meanSolveRate: null, learnable: 0 },
    attempts: { graded: 0, resolved: 0 },
    solveRates: [],
    rewards: { proposerMean: null, proposerCount: 0, solverMean: null, solverCount: 0 },
    trainable: { samples: 0, episodes: 0, episodesWithSamples: 0, untrainable: {} },
    wallTimeMs: 0,
    stepsPerHour: null,
    environments: [],
  };
}

describe("formatSummary", () => {
  it("prints the dashboard command for the store", () => {
    expect(formatSummary(summary("/data/runs/store.db"))).toMatch(
      /^dashboard\s+npx swe-selfplay ui --store \/data\/runs\/store\.db$/m,
    );
  });

  it("quotes a store path a shell would split or expand", () => {
    expect(formatSummary(summary("/data/my runs/it's $HOME.db"))).toContain(
      `npx swe-selfplay ui --store '/data/my runs/it'\\''s $HOME.db'`,
    );
  });
});
