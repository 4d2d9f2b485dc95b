import { describe, expect, it } from "vitest";
import type { BugArtifact } from "../../ports/artifact.js";
import { createSeededRandom } from "../strategies/seeded-random.js";
import { type ProposerFacts, proposerMoves } from "./proposer-moves.js";
import { Surface } from "./surface.js";

const artifact: BugArtifact = {
  testScript: "#!/usr/bin/env bash\n# runs the tests\ncd /testbed\npython3 -m pytest -v\n",
  testFiles: ["tests/test_stats.py"],
  testParser: "print('{}')\n",
  bugInjectDiff:
    "diff --git a/stats.py b/stats.py\n--- a/stats.py\n+++ b/stats.py\n@@ -1,2 +1,2 @@\n def mean(values):\n-    return sum(values) / len(values)\n+    return sum(values) / (len(values) + 1)\n",
  testWeakenDiff:
    "diff --git a/tests/test_stats.py b/tests/test_stats.py\n--- a/tests/test_stats.py\n+++ b/tests/test_stats.py\n@@ -1,4 +1,1 @@\n from stats import mean\n-\n-def test_mean():\n-    assert mean([1, 3]) == 2\n",
  meta: {
    environment: "fixture",
    strategy: "direct",
    order: 1,
    parentId: null,
    policy: "builtin:builtin",
    createdAt: "2026-01-01T00:00:00Z",
    seed: 1,
  },
};
const texts = new Map([
  ["stats.py", "def mean(values):\n    return sum(values) / len(values)\n"],
  ["tests/test_stats.py", "from stats import mean\n\ndef test_mean():\n    assert mean([1, 3]) == 2\n"],
]);
const facts: ProposerFacts = { artifact, artifactDir: "/tmp/artifact", texts, gitDiff: true };
const play = (seed: number, given: ProposerFacts = facts) =>
  proposerMoves(new Surface(createSeededRandom(seed)), given);
const commandOf = (move: { arguments: Record<string, unknown> }) => String(move.arguments.command);

describe("proposerMoves", () => {
  it("breaks the code with str_replace, saves git diffs, weakens, lists the oracle files and submits", () => {
    for (const seed of [1, 2, 3]) {
      const moves = play(seed);
      const edits = moves.filter((move) => move.arguments.command === "str_replace");
      expect(edits.map((move) => move.arguments.path)).toEqual(["stats.py", "tests/test_stats.py"]);
      const saves = moves.filter((move) => /^git diff -- .* > \/tmp\/artifact\//.test(commandOf(move)));
      expect(saves.map((move) => /> (\S+)/.exec(commandOf(move))?.[1])).toEqual([
        "/tmp/artifact/bug_inject.diff",
        "/tmp/artifact/test_weaken.diff",
      ]);
      // The comment-free script and, for pytest -v, the short parser.
      const written = JSON.stringify(moves);
      expect(written).not.toContain("# runs the tests");
      expect(written).toContain("Reads `pytest -v` output");
      expect(moves.at(-1)).toMatchObject({
        tool: "submit",
        arguments: {
          test_files: "/tmp/artifact/test_files.txt",
          bug_inject_diff: "/tmp/artifact/bug_inject.diff",
        },
      });
    }
  });

  it("writes the diffs out when the sandbox has no git to diff with", () => {
    const moves = play(4, { ...facts, gitDiff: false });
    expect(moves.some((move) => move.arguments.command === "str_replace")).toBe(false);
    expect(JSON.stringify(moves)).toContain("(len(values) + 1)");
    expect(moves.at(-1)!.tool).toBe("submit");
  });

  it("plays nothing without an artifact", () => {
    expect(play(5, { ...facts, artifact: null })).toEqual([]);
  });
});
