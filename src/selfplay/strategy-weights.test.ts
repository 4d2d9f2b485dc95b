import { describe, expect, it } from "vitest";
import { levelWeights } from "./step-choice.js";
import {
  configuredWeights,
  strategyOutcomes,
  strategyWeights,
  UNAVAILABLE_PREFIX,
} from "./strategy-weights.js";

const base = configuredWeights({ removal: 0.5, history: 0.5 }, "builtin");

describe("strategy weights", () => {
  it("fills direct in by policy: measured by the builtin policy's bandit, off for model policies", () => {
    expect(base).toEqual({ removal: 0.5, history: 0.5, direct: 1 });
    expect(configuredWeights({ removal: 0.5, history: 0.5 }, "openai").direct).toBe(0);
    expect(configuredWeights({ removal: 1, history: 0, direct: 0 }, "builtin").direct).toBe(0);
  });

  it("drops a strategy that cannot apply to 0 on that environment only, with or without the bandit", () => {
    const steps = [
      {
        stepIndex: 0,
        environment: "lib",
        strategy: "history",
        state: "done",
        outcome: "no-artifact",
        error: `${UNAVAILABLE_PREFIX}no valid history bug in a history of 1 commit`,
      },
    ];
    const outcomes = strategyOutcomes(steps, []);
    expect(outcomes).toEqual([{ environment: "lib", strategy: "history", result: "unavailable" }]);
    const fixed = strategyWeights("lib", outcomes, { base, learnability: false, floor: 0.1 });
    expect(fixed.weights).toEqual({ removal: 0.5, history: 0, direct: 1 });
    expect(fixed.unavailable).toEqual(["history"]);
    expect(
      strategyWeights("other", outcomes, { base, learnability: false, floor: 0.1 }).weights.history,
    ).toBe(0.5);
  });

  it("follows the measured share of learnable groups, never below the floor", () => {
    const step = (stepIndex: number, strategy: string, outcome = "valid") => ({
      stepIndex,
      environment: "lib",
      strategy,
      state: "done",
      outcome,
      error: null,
    });
    const steps = [
      step(0, "removal"),
      step(1, "removal"),
      step(2, "direct"),
      step(3, "direct"),
      step(4, "removal", "invalid"),
      { ...step(5, "direct"), state: "solving" },
    ];
    const groups = [
      { stepIndex: 0, order: 1, state: "graded", solveRate: 0 },
      { stepIndex: 1, order: 1, state: "graded", solveRate: 1 },
      { stepIndex: 1, order: 2, state: "graded", solveRate: 0.5 },
      { stepIndex: 2, order: 1, state: "graded", solveRate: 0.5 },
      { stepIndex: 3, order: 1, state: "graded", solveRate: 0.25 },
      { stepIndex: 5, order: 1, state: "solving", solveRate: null },
    ];
    const { weights, measured } = strategyWeights("lib", strategyOutcomes(steps, groups), {
      base,
      learnability: true,
      floor: 0.1,
    });
    expect(measured).toEqual({
      removal: { steps: 3, learnable: 0 },
      history: { steps: 0, learnable: 0 },
      direct: { steps: 2, learnable: 2 },
    });
    // (learnable + prior share) / (steps + 1), the prior share being the configured weight over the total.
    expect(weights.removal).toBe(0.1); // (0 + 0.25) / 4 = 0.0625, raised to the floor
    expect(weights.history).toBeCloseTo(0.25); // never measured: its prior
    expect(weights.direct).toBeCloseTo((2 + 0.5) / 3);
  });

  it("plays only the strategies that make the configured difficulty", () => {
    expect(levelWeights(base, "any")).toEqual(base);
    expect(levelWeights(base, 1)).toEqual({ removal: 0, history: 0, direct: 1 });
    expect(levelWeights(base, 3)).toEqual({ removal: 0.5, history: 0, direct: 0 });
    expect(levelWeights(base, 4)).toEqual({ removal: 0.5, history: 0.5, direct: 0 });
  });
});
