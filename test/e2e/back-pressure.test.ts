// Back-pressure: with a slow solver stage, the proposer does not run ahead; steps in flight stay within the
// pipeline bound and every stage within its concurrency limit.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConfiguredSelfPlay } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import type { SelfPlayEvent } from "../../src/selfplay/index.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { makeTempDir } from "../support/tmp.js";
import { createScriptedPolicy } from "./scripted-policy.js";

describe("back-pressure", () => {
  const temp = makeTempDir("swe-selfplay-pressure-");
  let repo: string;
  beforeAll(async () => {
    repo = await makePythonFixtureRepo(temp.path);
  });
  afterAll(() => temp.remove());

  it("stops proposing while the slow solver stage is full", async () => {
    const config = parseConfig({
      environments: [{ name: "inkwell", path: repo }],
      groupSize: 1,
      limits: { steps: 5 },
      concurrency: { proposers: 2, solvers: 1, pipelineSteps: 2, sandboxes: 4 },
      secondOrder: { enabled: false },
      store: join(temp.path, "store.db"),
    });
    // Proposals are instant; each solver attempt takes 400 ms and grading adds a test run.
    const policy = createScriptedPolicy({
      artifact: pythonFixtureArtifact(),
      solveDelayMs: 400,
      answer: () => "fix",
    });
    const events: { at: number; event: SelfPlayEvent }[] = [];
    const result = await runConfiguredSelfPlay(config, {
      policy,
      onEvent: (event) => events.push({ at: Date.now(), event }),
    });
    expect(result.status).toBe("completed");
    expect(result.summary.steps.done).toBe(5);

    // At no moment are more than 2 steps between start and finish.
    let inFlight = 0;
    let peak = 0;
    for (const { event } of events) {
      if (event.type === "step-started") inFlight++;
      if (event.type === "step-finished" || event.type === "step-failed") inFlight--;
      peak = Math.max(peak, inFlight);
    }
    expect(peak).toBe(2);
    expect(result.stages.pipeline.maxActive).toBe(2);
    expect(result.stages.solvers.maxActive).toBe(1);
    expect(result.stages.sandboxes.maxActive).toBeLessThanOrEqual(4);

    // The proposer waited: the last proposal started only after at least 3 steps had finished.
    const proposals = policy.calls.filter((call) => call.role === "proposer");
    expect(proposals).toHaveLength(5);
    const lastProposal = proposals.at(-1)!.startedAt;
    const finishedBefore = events.filter(
      ({ at, event }) => event.type === "step-finished" && at <= lastProposal,
    ).length;
    expect(finishedBefore).toBeGreaterThanOrEqual(3);
    // The solver stage never ran two attempts at once.
    const solves = policy.calls
      .filter((call) => call.role === "solver")
      .sort((a, b) => a.startedAt - b.startedAt);
    for (let index = 1; index < solves.length; index++)
      expect(solves[index]!.startedAt).toBeGreaterThanOrEqual(solves[index - 1]!.endedAt);
  });
});
