// One artifact, one task, end to end on the Python fixture (local sandboxes, real validation and grading):
// an identical artifact is neither validated nor solved again, and a same bug written differently is
// skipped when configured so; the proposer of a repeat gets the duplicate reward.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runConfiguredSelfPlay } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import type { SelfPlayEvent } from "../../src/selfplay/index.js";
import { formatSummary } from "../../src/selfplay/index.js";
import { runInvariantViolations } from "../../src/selfplay/invariants.js";
import { openStore } from "../../src/store/index.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { makeTempDir } from "../support/tmp.js";
import { createScriptedPolicy } from "./scripted-policy.js";

describe("duplicate artifacts in a run", { timeout: 600_000 }, () => {
  const temp = makeTempDir("swe-selfplay-duplicates-");
  afterAll(() => temp.remove());

  async function play(
    name: string,
    repeat: "identical" | "rewritten",
    semantic: "skip" | "penalise",
    secondOrder = false,
  ) {
    const repo = await makePythonFixtureRepo(join(temp.path, name));
    const config = parseConfig(
      {
        environments: [{ name: "inkwell", path: repo }],
        groupSize: 2,
        limits: { steps: 3 },
        concurrency: { solvers: 2, proposers: 2, validations: 2 },
        secondOrder: secondOrder ? { enabled: true, maxPerGroup: 2 } : { enabled: false },
        duplicates: { semantic },
        store: join(temp.path, name, "store.db"),
      },
      "test",
    );
    const events: SelfPlayEvent[] = [];
    // Every attempt submits the same partial fix: with second-order bugs on, both failed attempts of a
    // group make the same second-order artifact.
    const policy = createScriptedPolicy({
      artifact: pythonFixtureArtifact(),
      repeat,
      ...(secondOrder ? { answer: () => "partial" as const } : {}),
    });
    const store = openStore(config.store);
    try {
      const result = await runConfiguredSelfPlay(config, {
        store,
        policy,
        onEvent: (event) => events.push(event),
      });
      return {
        result,
        events,
        steps: store.listSteps(result.runId),
        groups: store.listGroups(result.runId),
        candidates: store.listAllCandidates(result.runId),
        rewards: store.listRewards(result.runId),
        violations: runInvariantViolations(store, result.runId),
        solverCalls: policy.calls.filter((call) => call.role === "solver").length,
      };
    } finally {
      store.close();
    }
  }

  it("validates and solves an identical artifact once; its repeats get -alpha and no group", async () => {
    const run = await play("identical", "identical", "penalise", true);
    expect(run.violations).toEqual([]);
    // One first-order group, and one second-order group although both of its attempts made that bug.
    expect(run.groups.map((group) => group.order)).toEqual([1, 2]);
    expect(run.solverCalls).toBe(4);
    expect(run.candidates.map((candidate) => candidate.outcome).sort()).toEqual(["no-artifact", "valid"]);
    expect(run.candidates.find((candidate) => candidate.outcome === "no-artifact")?.reason).toContain(
      "not solved twice",
    );
    // Proposers run two at a time, so whichever step registers the artifact first is the original.
    const originals = run.steps.filter((step) => step.outcome !== "duplicate");
    expect(originals).toHaveLength(1);
    const first = originals[0]!;
    expect(first).toMatchObject({ outcome: "valid", duplicateOf: null });
    const repeats = run.steps.filter((step) => step !== first);
    for (const step of repeats) {
      expect(step).toMatchObject({
        state: "done",
        outcome: "duplicate",
        duplicateOf: first.stepIndex,
        duplicateKind: "identical",
      });
      expect(run.rewards.find((reward) => reward.episodeId === step.episodeId)?.value).toBe(-0.8);
    }
    // Validated once: one artifact-validated event, for the first step.
    expect(
      run.events.filter((event) => event.type === "artifact-validated" && event.order === 1),
    ).toHaveLength(1);
    expect(run.result.summary.artifacts).toMatchObject({
      valid: 1,
      duplicate: 2,
      distinctBugs: 1,
      duplicates: { identical: 2, semantic: 0 },
    });
    expect(formatSummary(run.result.summary)).toMatch(/duplicates 2 identical \+ 0 same bug/);
  });

  it("skips the same bug written differently when configured to: validated, not solved", async () => {
    const run = await play("semantic", "rewritten", "skip");
    expect(run.violations).toEqual([]);
    expect(run.groups).toHaveLength(1);
    expect(run.solverCalls).toBe(2);
    const repeats = run.steps.filter((step) => step.outcome === "duplicate");
    expect(repeats).toHaveLength(2);
    for (const step of repeats)
      expect(step).toMatchObject({ duplicateKind: "semantic", duplicateOf: run.groups[0]!.stepIndex });
    expect(run.result.summary.artifacts.duplicates).toEqual({ identical: 0, semantic: 2 });
  });
});
