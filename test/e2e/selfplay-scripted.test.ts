// End to end on the Python fixture (local bubblewrap sandboxes, real validation and grading) with a scripted
// policy: rewards, second-order groups, store contents, exports and a SWE-bench line re-graded by the CLI.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConfiguredSelfPlay } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import {
  exportArtifacts,
  exportRollouts,
  exportSweBench,
  readRolloutStep,
} from "../../src/selfplay/exports/index.js";
import type { SelfPlayEvent } from "../../src/selfplay/index.js";
import { formatSummary, type SelfPlayResult } from "../../src/selfplay/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { proposerReward } from "../../src/validation/index.js";
import { runCli } from "../support/cli.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { makeTempDir } from "../support/tmp.js";
import { createScriptedPolicy } from "./scripted-policy.js";

describe("self-play end to end with a scripted policy on the Python fixture", () => {
  const temp = makeTempDir("swe-selfplay-e2e-");
  let repo: string;
  let store: Store;
  let result: SelfPlayResult;
  const events: SelfPlayEvent[] = [];

  beforeAll(async () => {
    repo = await makePythonFixtureRepo(temp.path);
    const config = parseConfig(
      {
        environments: [{ name: "inkwell", path: repo }],
        groupSize: 3,
        limits: { steps: 2 },
        concurrency: { solvers: 1, validationTestRuns: 2 },
        secondOrder: { maxPerGroup: 1 },
        store: join(temp.path, "store.db"),
        seed: 3,
      },
      "test",
    );
    const policy = createScriptedPolicy({
      artifact: pythonFixtureArtifact(),
      // With one solver at a time, a group's attempts are served one after the other: the first fixes,
      // the second fixes one of the two bug files, the third gives up (solve rate 1/3 per group).
      answer: (_seed, call) => (["fix", "partial", "empty"] as const)[call % 3]!,
      failProposal: (seed) => seed === -1,
    });
    store = openStore(config.store);
    result = await runConfiguredSelfPlay(config, { store, policy, onEvent: (event) => events.push(event) });
  });

  afterAll(() => {
    store?.close();
    temp.remove();
  });

  it("completes every step with a valid artifact and a graded group", () => {
    expect(result.status).toBe("completed");
    expect(result.summary.steps).toMatchObject({ total: 2, done: 2, failed: 0, unfinished: 0 });
    expect(result.summary.artifacts.valid).toBe(2);
    const steps = store.listSteps(result.runId);
    for (const step of steps) expect(step).toMatchObject({ state: "done", outcome: "valid" });
  });

  it("summarises the run as a table", () => {
    const table = formatSummary(result.summary);
    expect(table).toContain(`store          ${join(temp.path, "store.db")}`);
    expect(table).toMatch(/^steps\s+2 \(done 2, failed 0, unfinished 0\)$/m);
    expect(table).toMatch(/^solve rates\s+0: \d+ {2}\(0,0\.25\]: \d+/m);
    expect(table).toMatch(/^rewards\s+proposer mean -?\d\.\d{3} \(n=2\)/m);
  });

  it("gives each solver ±1 by its grade and the proposer the reward of its group's solve rate", () => {
    const rewards = store.listRewards(result.runId);
    for (const group of store.listGroups(result.runId)) {
      const attempts = store.listAttempts(group.id);
      expect(attempts).toHaveLength(3);
      expect(attempts.every((attempt) => attempt.state === "done")).toBe(true);
      const resolved = attempts.filter((attempt) => attempt.resolved).length;
      expect(group.solveRate).toBeCloseTo(resolved / 3);
      for (const attempt of attempts) {
        const reward = rewards.find((entry) => entry.episodeId === attempt.episodeId);
        expect(reward?.value).toBe(attempt.resolved ? 1 : -1);
      }
    }
    // The second step proposes the same bug again (only the test script's comment differs): it is solved,
    // but its proposer gets the duplicate reward, -alpha.
    const [first, second] = store.listSteps(result.runId);
    expect(first).toMatchObject({ duplicateOf: null, duplicateKind: null });
    expect(second).toMatchObject({ outcome: "valid", duplicateOf: 0, duplicateKind: "semantic" });
    const group = store.listGroups(result.runId, 0).find((entry) => entry.order === 1)!;
    expect(rewards.find((entry) => entry.episodeId === first!.episodeId)?.value).toBeCloseTo(
      proposerReward({ valid: true, solveRate: group.solveRate!, alpha: 0.8 }),
    );
    expect(rewards.find((entry) => entry.episodeId === second!.episodeId)).toMatchObject({
      value: -0.8,
      reason: expect.stringContaining("the same bug as step 0"),
    });
    expect(result.summary.artifacts).toMatchObject({
      valid: 2,
      distinctBugs: 1,
      duplicate: 0,
      duplicates: { identical: 0, semantic: 1 },
    });
  });

  it("turns a failed attempt into a second-order bug linked to its parent", () => {
    const groups = store.listGroups(result.runId);
    const first = groups.filter((group) => group.order === 1);
    const second = groups.filter((group) => group.order === 2);
    expect(first).toHaveLength(2);
    // The partial fix leaves one bug file broken: a valid second-order bug in each step.
    expect(second.length).toBeGreaterThanOrEqual(1);
    for (const child of second) {
      const parent = first.find((group) => group.id === child.parentGroupId)!;
      expect(parent).toBeDefined();
      expect(child.sourceAttemptId?.startsWith(parent.id)).toBe(true);
      expect(store.getArtifact(child.artifactId)?.meta).toMatchObject({
        order: 2,
        parentId: parent.artifactId,
      });
      expect(child.state).toBe("graded");
      // No proposer reward for a second-order group: only its solvers are rewarded.
      const rewards = store.listRewards(result.runId).filter((reward) => reward.groupId === child.id);
      expect(rewards.map((reward) => reward.role)).toEqual(["solver", "solver", "solver"]);
    }
    expect(result.summary.secondOrder.candidates).toBe(2);
  });

  it("emits noun-verb events in a sensible order", () => {
    const types = events.map((event) => event.type);
    expect(types[0]).toBe("run-started");
    expect(types.at(-1)).toBe("run-finished");
    for (const type of [
      "step-started",
      "artifact-proposed",
      "artifact-validated",
      "attempt-graded",
      "group-graded",
      "step-finished",
    ])
      expect(types).toContain(type);
    expect(types.filter((type) => type === "step-finished")).toHaveLength(2);
  });

  it("exports rollouts, artifacts and SWE-bench lines; a SWE-bench line re-graded by the CLI gives the recorded result", async () => {
    const out = join(temp.path, "export");
    const rollouts = exportRollouts({ store, runId: result.runId, outDir: out });
    expect(rollouts.stepsWritten).toEqual([0, 1]);
    // The scripted policy has no model: its steps are exported with zero records so trainers can move on.
    expect(readRolloutStep(join(out, "rollouts", "step_000000")).manifest.records).toBe(0);
    const artifacts = await exportArtifacts({ store, runId: result.runId, outDir: out });
    expect(artifacts.count).toBeGreaterThanOrEqual(2);
    const swebench = exportSweBench({ store, runId: result.runId, outDir: out });
    const lines = readFileSync(swebench.path, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.length).toBe(swebench.count);
    const line = lines.find((entry) => entry.order === 1)!;
    const firstOrder = lines.filter((entry) => entry.order === 1);
    expect(new Set(firstOrder.map((entry) => entry.semantic_key)).size).toBe(1);
    expect(firstOrder.map((entry) => entry.duplicate_of_step).sort()).toEqual([0, null]);
    expect(JSON.parse(line.FAIL_TO_PASS).length).toBeGreaterThan(0);
    expect(line.problem_statement).toContain(line.test_patch.split("\n")[0]);

    // Rebuild the artifact from the line alone and grade with the CLI: the reference fix resolves,
    // and the recorded partial fix does not, exactly as the run recorded.
    const dir = join(temp.path, "from-line");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "test_script.sh"), line.test_script);
    writeFileSync(join(dir, "test_files.txt"), `${line.test_files.join("\n")}\n`);
    writeFileSync(join(dir, "test_parser.py"), line.test_parser);
    writeFileSync(join(dir, "bug_inject.diff"), line.bug_patch);
    writeFileSync(join(dir, "test_weaken.diff"), line.weaken_patch);
    writeFileSync(join(temp.path, "fix.diff"), line.patch);
    const fixed = await runCli([
      "grade",
      dir,
      join(temp.path, "fix.diff"),
      "--repo",
      repo,
      "--baseline-runs",
      "1",
      "--json",
    ]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(JSON.parse(fixed.stdout).grade.resolved).toBe(true);

    const group = store.listGroups(result.runId).find((entry) => entry.artifactId === line.artifact_id)!;
    const partial = store
      .listAttempts(group.id)
      .find((attempt) => attempt.resolved === false && attempt.patch)!;
    writeFileSync(join(temp.path, "partial.diff"), partial.patch!);
    const graded = await runCli([
      "grade",
      dir,
      join(temp.path, "partial.diff"),
      "--repo",
      repo,
      "--baseline-runs",
      "1",
      "--json",
    ]);
    expect(graded.code, graded.stderr).toBe(1);
    expect(JSON.parse(graded.stdout).grade.resolved).toBe(partial.grade!.resolved);
    expect(JSON.parse(graded.stdout).grade.failedF2P).toEqual(partial.grade!.failedF2P);
  });
});
