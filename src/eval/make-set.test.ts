import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  nodeFixtureArtifact,
  pythonFixtureArtifact,
  withMeta,
} from "../../test/support/fixture-artifacts.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { artifactId } from "../artifact/index.js";
import { toSweBenchInstance } from "../artifact-io/index.js";
import type { BugArtifact } from "../ports/artifact.js";
import {
  type Candidate,
  candidatesFromSweBench,
  chooseSet,
  filterCandidates,
  holdOutBugs,
  holdOutEnvironments,
} from "./make-set.js";
import { readTaskSet, resolveTasks, taskEntry, taskSetId, writeTaskSet } from "./task-set.js";

const temp = makeTempDir("make-set-");
afterAll(() => temp.remove());

/** Distinct artifacts: the fixture bug with a different test script each. */
function variants(base: BugArtifact, count: number, environment: string, strategy: "removal" | "direct") {
  return Array.from({ length: count }, (_, index) => ({
    entry: taskEntry(
      withMeta({ ...base, testScript: `${base.testScript}# ${index}\n` }, { strategy }),
      environment,
    ),
    solveRate: index / count,
  }));
}

const candidates: Candidate[] = [
  ...variants(pythonFixtureArtifact(), 6, "py", "removal"),
  ...variants(nodeFixtureArtifact(), 4, "js", "direct"),
];

describe("make-set", () => {
  it("keeps the tasks of a difficulty level, leaving out those that record none", () => {
    const leveled = candidates.map((candidate, index) =>
      index % 2 === 0 && candidate.entry.artifact
        ? {
            ...candidate,
            entry: {
              ...candidate.entry,
              artifact: {
                ...candidate.entry.artifact,
                meta: { ...candidate.entry.artifact.meta, difficulty: 1 },
              },
            },
          }
        : candidate,
    );
    expect(filterCandidates(leveled, { difficulties: [1] })).toHaveLength(5);
    expect(filterCandidates(leveled, { difficulties: [2, 3] })).toHaveLength(0);
  });

  it("filters, then chooses a seeded sample whatever the candidates' order", () => {
    const removal = filterCandidates(candidates, { strategies: ["removal"] });
    expect(removal).toHaveLength(6);
    const band = filterCandidates(candidates, { environments: ["py"], solveRate: { min: 0.3, max: 0.7 } });
    expect(band.map((candidate) => candidate.solveRate)).toEqual([2 / 6, 3 / 6, 4 / 6]);
    const one = chooseSet(candidates, { name: "s", seed: 3, size: 5, source: {} });
    const again = chooseSet([...candidates].reverse(), { name: "s", seed: 3, size: 5, source: {} });
    expect(taskSetId(one)).toBe(taskSetId(again));
    expect(one.tasks).toHaveLength(5);
    expect(taskSetId(chooseSet(candidates, { name: "s", seed: 4, size: 5, source: {} }))).not.toBe(
      taskSetId(one),
    );
    expect(() => chooseSet(candidates, { name: "s", seed: 0, size: 11, source: {} })).toThrow(
      /--size 11 asks for more tasks than the 10/,
    );
    expect(() => chooseSet([], { name: "s", seed: 0, source: {} })).toThrow(/no task passes the filters/);
    const each = chooseSet(candidates, { name: "s", seed: 0, perEnvironment: 3, source: {} });
    expect(each.tasks.filter((task) => task.environment === "py")).toHaveLength(3);
    expect(each.tasks.filter((task) => task.environment === "js")).toHaveLength(3);
    expect(() => chooseSet(candidates, { name: "s", seed: 0, perEnvironment: 5, source: {} })).toThrow(
      /--per-environment 5 asks for more tasks than the 4 on js/,
    );
  });

  it("holds out whole environments, or a share of every environment's bugs", () => {
    const set = chooseSet(candidates, { name: "all", seed: 0, source: {} });
    const byEnvironment = holdOutEnvironments(set, ["js"]);
    expect(byEnvironment.heldOut.tasks.every((task) => task.environment === "js")).toBe(true);
    expect(byEnvironment.heldOut.tasks).toHaveLength(4);
    expect(byEnvironment.rest.tasks).toHaveLength(6);
    expect(() => holdOutEnvironments(set, ["go"])).toThrow(/no task of the set is on it/);
    const byBug = holdOutBugs(set, 0.5, 1);
    expect(byBug.heldOut.tasks.filter((task) => task.environment === "py")).toHaveLength(3);
    expect(byBug.heldOut.tasks.filter((task) => task.environment === "js")).toHaveLength(2);
    expect(byBug.rest.tasks).toHaveLength(5);
    const held = new Set(byBug.heldOut.tasks.map((task) => task.artifact_id));
    expect(byBug.rest.tasks.some((task) => held.has(task.artifact_id))).toBe(false);
  });

  it("reads SWE-bench-style lines (fix and test patch reversed, or our own diffs) and pins the same ids", () => {
    const artifact = pythonFixtureArtifact();
    const instance = toSweBenchInstance({ artifact, repo: "inkwell", failToPass: [], passToPass: [] });
    const {
      bug_patch: _bug,
      weaken_patch: _weaken,
      ...plain
    } = {
      ...instance,
      bug_patch: "",
      weaken_patch: "",
    };
    const path = join(temp.path, "lines.jsonl");
    writeFileSync(
      path,
      `${JSON.stringify(plain)}\n${JSON.stringify({ ...instance, image: "repo:tag", bug_patch: artifact.bugInjectDiff, weaken_patch: artifact.testWeakenDiff, artifact_id: artifactId(artifact) })}\n`,
    );
    const [fromReversed, fromOwn] = candidatesFromSweBench(path);
    expect(fromReversed!.entry.environment).toBe("inkwell");
    expect(fromOwn!.entry.environment).toBe("repo:tag");
    expect(fromOwn!.entry.artifact_id).toBe(artifactId(artifact));
    writeFileSync(path, `${JSON.stringify({ ...instance, artifact_id: "0".repeat(64) })}\n`);
    expect(() => candidatesFromSweBench(path)).toThrow(
      /line 1: the line's files hash to \w+, not its artifact_id/,
    );
    writeFileSync(path, "{}\n");
    expect(() => candidatesFromSweBench(path)).toThrow(/line 1: neither image nor repo/);
  });

  it("writes a set that reads back to the same tasks, and refuses an edited one by id", () => {
    const set = chooseSet(candidates, { name: "s", seed: 0, size: 2, source: {} });
    const path = join(temp.path, "set.json");
    writeTaskSet(path, set);
    const read = readTaskSet(path);
    const tasks = resolveTasks(read, path, () => null);
    expect(tasks.map((task) => artifactId(task.artifact))).toEqual(set.tasks.map((task) => task.artifact_id));
    read.tasks[1]!.artifact!.test_script += "echo\n";
    expect(() => resolveTasks(read, path, () => null)).toThrow(/tasks\.1: the artifact's files hash to/);
    writeFileSync(path, JSON.stringify({ ...set, tasks: [] }));
    expect(() => readTaskSet(path)).toThrow(/tasks: a task set needs at least one task/);
  });
});
