import { describe, expect, it } from "vitest";
import { createSeededRandom } from "../strategies/seeded-random.js";
import { type SolverFacts, solverMoves } from "./solver-moves.js";
import { Surface } from "./surface.js";

const buggy =
  "def mean(values):\n    if not values:\n        return 0\n    return sum(values) / (len(values) + 1)\n";
const facts: SolverFacts = {
  specification:
    "diff --git a/tests/test_stats.py b/tests/test_stats.py\n--- a/tests/test_stats.py\n+++ b/tests/test_stats.py\n@@ -1,1 +1,4 @@\n from stats import mean\n+\n+def test_mean():\n+    assert mean([1, 3]) == 2\n",
  specificationFiles: ["tests/test_stats.py"],
  tests: { framework: "pytest", testScript: "cd /testbed\npython3 -m pytest -v\n" },
  repair:
    "diff --git a/stats.py b/stats.py\n--- a/stats.py\n+++ b/stats.py\n@@ -3,2 +3,2 @@ def mean(values):\n         return 0\n-    return sum(values) / (len(values) + 1)\n+    return sum(values) / len(values)\n",
  texts: new Map([["stats.py", buggy]]),
  suspect: { path: "stats.py", name: "mean" },
  extension: ".py",
};

const play = (seed: number, given: SolverFacts = facts) =>
  solverMoves(new Surface(createSeededRandom(seed)), given);

describe("solverMoves", () => {
  it("applies the specification, runs the tests, reads, edits with str_replace, runs again, submits", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const moves = play(seed);
      const edit = moves.findIndex((move) => move.arguments.command === "str_replace");
      expect(moves[edit]!.arguments).toMatchObject({
        path: "stats.py",
        old_str: "    return sum(values) / (len(values) + 1)",
        new_str: "    return sum(values) / len(values)",
      });
      const runs = moves.flatMap((move, index) =>
        String(move.arguments.command).includes("-m pytest") ? [index] : [],
      );
      expect(runs).toHaveLength(2);
      expect(runs[0]!).toBeLessThan(edit);
      expect(runs[1]!).toBeGreaterThan(edit);
      // The specification's tests go in (git apply) before the first run.
      const applied = moves.findIndex((move) => String(move.arguments.command).includes("git apply"));
      expect(applied).toBeGreaterThanOrEqual(0);
      expect(applied).toBeLessThan(runs[0]!);
      expect(moves.at(-1)).toMatchObject({ tool: "submit", arguments: {} });
    }
  });

  it("words and commands differ from seed to seed", () => {
    const transcripts = new Set(Array.from({ length: 12 }, (_, seed) => JSON.stringify(play(seed))));
    expect(transcripts.size).toBeGreaterThanOrEqual(10);
  });

  it("without a repair: runs the tests, looks at the suspect and submits without an edit", () => {
    const moves = play(7, { ...facts, repair: "", texts: new Map() });
    expect(moves.some((move) => move.arguments.command === "str_replace")).toBe(false);
    expect(moves.some((move) => String(move.arguments.command).includes("mean"))).toBe(true);
    expect(moves.at(-1)).toMatchObject({ tool: "submit", arguments: {} });
  });
});
