import { describe, expect, it } from "vitest";
import { compareEvaluations, formatComparison } from "./compare.js";

const attempts = (resolved: boolean[][]) =>
  resolved.flatMap((task, taskIndex) =>
    task.map((value, attemptIndex) => ({ taskIndex, attemptIndex, resolved: value })),
  );

describe("compareEvaluations", () => {
  it("pairs tasks and attempts: difference, bootstrap interval and McNemar counts", () => {
    const a = {
      id: "a",
      taskSetId: "s",
      policy: "p@1",
      attempts: attempts([[true], [false], [false], [true]]),
    };
    const b = {
      id: "b",
      taskSetId: "s",
      policy: "p@2",
      attempts: attempts([[true], [true], [true], [false]]),
    };
    const comparison = compareEvaluations(a, b);
    expect(comparison.difference).toBeCloseTo(0.25, 12);
    expect(comparison.mcnemar).toMatchObject({ pairs: 4, both: 1, onlyA: 1, onlyB: 2, neither: 0 });
    expect(comparison.mcnemar.pValue).toBe(1);
    expect(comparison.interval.low).toBeLessThanOrEqual(0.25);
    expect(comparison.interval.high).toBeGreaterThanOrEqual(0.25);
    expect(formatComparison(comparison)).toContain("B − A: +25.0 points");
  });

  it("only compares evaluations of the same set, and only the tasks both attempted", () => {
    const a = {
      id: "a",
      taskSetId: "s",
      policy: "p",
      attempts: attempts([
        [true, false],
        [false, false],
      ]),
    };
    expect(() => compareEvaluations(a, { ...a, id: "b", taskSetId: "t" })).toThrow(/different task sets/);
    const partial = { ...a, id: "b", attempts: attempts([[true]]) };
    const comparison = compareEvaluations(a, partial);
    expect(comparison.pairedTasks).toBe(1);
    expect(comparison.difference).toBeCloseTo(0.5, 12);
    expect(comparison.mcnemar.pairs).toBe(1);
  });
});
