// Run control: a broken environment is recorded and taken out while the run goes on; an interrupt leaves a
// consistent store that a second run resumes to completion; a duration limit aborts episodes in flight.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConfiguredSelfPlay } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import { runInvariantViolations } from "../../src/selfplay/invariants.js";
import { openStore } from "../../src/store/index.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { makeTempDir } from "../support/tmp.js";
import { createScriptedPolicy } from "./scripted-policy.js";

describe("run control", () => {
  const temp = makeTempDir("swe-selfplay-control-");
  let repo: string;
  beforeAll(async () => {
    repo = await makePythonFixtureRepo(temp.path);
  });
  afterAll(() => temp.remove());

  it("records a broken environment's failures, takes it out and goes on with the others", async () => {
    const config = parseConfig({
      environments: [
        { name: "inkwell", path: repo },
        { name: "missing", path: join(temp.path, "no-such-repository") },
      ],
      groupSize: 1,
      limits: { steps: 5, maxEnvironmentFailures: 2 },
      secondOrder: { enabled: false },
      store: join(temp.path, "environments.db"),
    });
    const result = await runConfiguredSelfPlay(config, {
      policy: createScriptedPolicy({ artifact: pythonFixtureArtifact() }),
    });
    expect(result.status).toBe("completed");
    const store = openStore(config.store);
    try {
      const steps = store.listSteps(result.runId);
      expect(steps).toHaveLength(5);
      const failed = steps.filter((step) => step.state === "failed");
      expect(failed.map((step) => step.environment)).toEqual(["missing", "missing"]);
      expect(failed[0]!.error).toMatch(/no-such-repository/);
      expect(steps.filter((step) => step.environment === "inkwell" && step.outcome === "valid")).toHaveLength(
        3,
      );
      expect(store.listEnvironments(result.runId)).toMatchObject([
        { name: "inkwell", status: "active" },
        { name: "missing", status: "disabled" },
      ]);
      expect(runInvariantViolations(store, result.runId)).toEqual([]);
    } finally {
      store.close();
    }
    expect(result.summary.environments.find((environment) => environment.name === "missing")?.status).toBe(
      "disabled",
    );
  });

  it("stops on an interrupt with a consistent store, and the next run resumes it to completion", async () => {
    const config = parseConfig({
      environments: [{ name: "inkwell", path: repo }],
      groupSize: 2,
      limits: { steps: 2 },
      secondOrder: { enabled: false },
      store: join(temp.path, "interrupt.db"),
    });
    const policy = createScriptedPolicy({ artifact: pythonFixtureArtifact(), solveDelayMs: 300 });
    const interrupt = new AbortController();
    const first = await runConfiguredSelfPlay(config, {
      policy,
      signal: interrupt.signal,
      onEvent: (event) => {
        if (event.type === "attempt-graded") interrupt.abort();
      },
    });
    expect(first.status).toBe("interrupted");
    expect(first.summary.steps.unfinished).toBeGreaterThan(0);
    const store = openStore(config.store);
    try {
      expect(runInvariantViolations(store, first.runId)).toEqual([]);
      expect(store.listEpisodes(first.runId).filter((episode) => episode.state === "running")).toEqual([]);
    } finally {
      store.close();
    }
    const second = await runConfiguredSelfPlay(config, { policy });
    expect(second).toMatchObject({ status: "completed", resumed: true, runId: first.runId });
    expect(second.summary).toMatchObject({ starts: 2, steps: { total: 2, done: 2, unfinished: 0 } });
    expect(second.summary.attempts.graded).toBe(4);
  });

  it("ends at its duration, aborting episodes in flight", async () => {
    const config = parseConfig({
      environments: [{ name: "inkwell", path: repo }],
      groupSize: 1,
      limits: { durationMs: 1500 },
      store: join(temp.path, "duration.db"),
    });
    const started = Date.now();
    const result = await runConfiguredSelfPlay(config, {
      policy: createScriptedPolicy({ artifact: pythonFixtureArtifact(), proposeDelayMs: 60_000 }),
    });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.status).toBe("interrupted");
    const store = openStore(config.store);
    try {
      const episodes = store.listEpisodes(result.runId);
      expect(episodes.length).toBeGreaterThan(0);
      expect(episodes.every((episode) => episode.state === "aborted")).toBe(true);
      expect(runInvariantViolations(store, result.runId)).toEqual([]);
    } finally {
      store.close();
    }
  });
});
