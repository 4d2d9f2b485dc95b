import { describe, expect, it } from "vitest";
import { createProgress, formatDuration } from "./progress.js";

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, isTTY, write: (text: string) => chunks.push(text) > 0 };
}

describe("progress display", () => {
  it("prints plain lines when not a terminal", () => {
    const stream = sink(false);
    const progress = createProgress({ stream, stepsTarget: 4 });
    progress.onEvent({ type: "run-started", runId: "run-1", resumed: false, stepsDone: 0, stepsTarget: 4 });
    progress.onEvent({
      type: "step-started",
      stepIndex: 0,
      environment: "e",
      strategy: "removal",
      resumed: false,
    });
    progress.onEvent({
      type: "artifact-validated",
      stepIndex: 0,
      artifactId: "abcdef0123456789",
      order: 1,
      verdict: "invalid",
      failedCheck: "bug",
      reason: "no test fails",
    });
    progress.onEvent({ type: "step-finished", stepIndex: 0, outcome: "invalid", proposerReward: -1 });
    progress.stop();
    const text = stream.chunks.join("");
    expect(text).toContain("run run-1 started");
    expect(text).toContain("artifact abcdef012345 invalid (bug: no test fails)");
    expect(text).toMatch(/step 0 finished: invalid \| steps 1\/4/);
    expect(text).not.toContain("\x1b[");
  });

  it("redraws a block with counts, solve-rate histogram, rewards and ETA on a terminal", () => {
    const stream = sink(true);
    const progress = createProgress({ stream, stepsTarget: 10, refreshMs: 10_000 });
    progress.onEvent({ type: "run-started", runId: "r", resumed: true, stepsDone: 2, stepsTarget: 10 });
    progress.onEvent({
      type: "step-started",
      stepIndex: 2,
      environment: "e",
      strategy: "history",
      resumed: false,
    });
    progress.onEvent({
      type: "group-graded",
      stepIndex: 2,
      groupId: "g",
      order: 1,
      solveRate: 0.5,
      proposerReward: 0.1,
    });
    progress.onEvent({ type: "step-finished", stepIndex: 2, outcome: "valid", proposerReward: 0.1 });
    const block = progress.render();
    expect(block).toMatch(/^steps 3\/10 \(failed 0, in flight 0\)/);
    expect(block).toContain("ETA");
    expect(block).toContain("(0.25,0.5]:1");
    expect(block).toContain("proposer mean 0.100");
    progress.stop();
    progress.stop();
    expect(stream.chunks).toHaveLength(1);
    expect(formatDuration(3_725_000)).toBe("1h02m");
    expect(formatDuration(65_000)).toBe("1m05s");
  });

  it("says that no new steps start, not that the run stops, when every step is started", () => {
    const stream = sink(false);
    const progress = createProgress({ stream, stepsTarget: 4 });
    progress.onEvent({ type: "run-started", runId: "r", resumed: false, stepsDone: 0, stepsTarget: 4 });
    progress.onEvent({ type: "run-stopping", reason: "steps" });
    const text = stream.chunks.join("");
    expect(text).toContain("progress all 4 steps are started; no new ones, those in flight finish");
    expect(text).not.toMatch(/stopping/);
    expect(progress.render()).not.toMatch(/stopping/);
    progress.stop();
  });
});
