// End to end with the agent policy against the scripted model server (a real HTTP server speaking the
// OpenAI protocol): proposer and solver episodes through the orchestrator, token-level rollout records
// with their rewards, exported in the trainer's directory protocol.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentPolicy } from "../../src/agent/index.js";
import { runConfiguredSelfPlay } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import { createModelClient } from "../../src/model/index.js";
import { exportRollouts, readRolloutStep, rolloutRecordProblems } from "../../src/selfplay/exports/index.js";
import type { SelfPlayResult } from "../../src/selfplay/index.js";
import { runInvariantViolations } from "../../src/selfplay/invariants.js";
import { openStore, type Store } from "../../src/store/index.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { type ScriptedModelServer, startScriptedModelServer } from "../support/scripted-model-server.js";
import { makeTempDir } from "../support/tmp.js";
import { selfPlayScript } from "./model-script.js";

const artifact = pythonFixtureArtifact();

describe("self-play end to end with the agent policy and the scripted model server", () => {
  const temp = makeTempDir("swe-selfplay-model-");
  let server: ScriptedModelServer;
  let store: Store;
  let result: SelfPlayResult;

  beforeAll(async () => {
    const repo = await makePythonFixtureRepo(temp.path);
    server = await startScriptedModelServer(selfPlayScript(artifact));
    const config = parseConfig({
      environments: [{ name: "inkwell", path: repo }],
      groupSize: 2,
      limits: { steps: 1 },
      secondOrder: { enabled: false },
      store: join(temp.path, "store.db"),
    });
    const policy = createAgentPolicy({
      client: createModelClient({ baseUrl: server.baseUrl, model: "scripted" }),
      modelName: "scripted",
    });
    store = openStore(config.store);
    result = await runConfiguredSelfPlay(config, { store, policy });
  });

  afterAll(async () => {
    store?.close();
    await server?.close();
    temp.remove();
  });

  it("plays one step: valid artifact, a graded group and rewards on every sample", () => {
    expect(result.status).toBe("completed");
    expect(result.summary.artifacts.valid).toBe(1);
    expect(runInvariantViolations(store, result.runId)).toEqual([]);
    const samples = store.listSamples(result.runId);
    expect(samples.filter((sample) => sample.role === "proposer").length).toBeGreaterThan(0);
    expect(samples.filter((sample) => sample.role === "solver").length).toBeGreaterThan(0);
    for (const sample of samples) expect(sample.reward).not.toBeNull();
    // One proposer and two solver episodes, each with samples.
    expect(result.summary.trainable).toEqual({
      samples: samples.length,
      episodes: 3,
      episodesWithSamples: 3,
      untrainable: {},
    });
    const group = store.listGroups(result.runId)[0]!;
    // One attempt reverted the bug, the other submitted nothing.
    expect(group.solveRate).toBe(0.5);
    for (const sample of samples.filter((entry) => entry.role === "solver"))
      expect(sample.group_id).toBe(group.id);
  });

  it("exports trainer records that satisfy the rollout.v1 invariants", () => {
    const out = join(temp.path, "export");
    const exported = exportRollouts({ store, runId: result.runId, outDir: out });
    expect(exported.stepsWritten).toEqual([0]);
    const stepDirectory = join(out, "rollouts", "step_000000");
    expect(readdirSync(stepDirectory)).toContain("_DONE");
    const { manifest, records } = readRolloutStep(stepDirectory);
    expect(manifest.records).toBe(records.length);
    expect(records.length).toBe(store.listSamples(result.runId).length);
    for (const record of records) expect(rolloutRecordProblems(record)).toEqual([]);
    const rewards = new Set(records.map((record) => `${record.role}:${record.reward}`));
    expect(rewards.has("solver:1") || rewards.has("solver:-1")).toBe(true);
  });
});
