// End to end with the agent policy against the scripted model server (a real HTTP server speaking the
// OpenAI protocol): proposer and solver episodes through the orchestrator, token-level rollout records
// with their rewards, exported in the trainer's directory protocol and as SFT lines through the CLI.
import { readdirSync, readFileSync } from "node:fs";
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
import { runCli } from "../support/cli.js";
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

  it("exports SFT lines through the CLI: what the model was sent, native tool calls, filtered per artifact", async () => {
    const out = join(temp.path, "sft");
    const exportSft = async (...flags: string[]) => {
      const exported = await runCli([
        "export",
        "--store",
        store.path,
        "--format",
        "sft",
        "--out",
        out,
        ...flags,
      ]);
      expect(exported.code, exported.stderr).toBe(0);
      const lines = readFileSync(join(out, "sft.jsonl"), "utf8").trim().split("\n").filter(Boolean);
      return lines.map((line) => JSON.parse(line));
    };
    // One line per artifact and role: the proposer's, and the better of the two solver attempts.
    const lines = await exportSft();
    expect(lines.map((line) => line.meta.role)).toEqual(["proposer", "solver"]);
    expect(lines[1].meta).toMatchObject({ reward: 1, resolved: true });
    expect(lines[0].meta.reward).toBeCloseTo(0.1);
    expect(await exportSft("--all")).toHaveLength(3);
    const [solver] = await exportSft("--resolved");
    expect(solver.meta).toMatchObject({
      role: "solver",
      resolved: true,
      environment: "inkwell",
      policy: "openai:scripted",
    });
    const [proposer, ...none] = await exportSft(
      "--valid",
      "--policy",
      "scripted",
      "--environment",
      "inkwell",
    );
    expect(none).toEqual([]);
    expect(proposer.meta).toMatchObject({
      role: "proposer",
      valid: true,
      artifact_id: solver.meta.artifact_id,
    });
    // The line is what the model was sent on its last turn, plus its last reply.
    for (const line of [solver, proposer]) {
      const request = server.requests
        .map((received) => received.body)
        .filter((body) => body.messages[1].content === line.messages[1].content)
        .at(-1)!;
      expect(line.messages.slice(0, -1)).toEqual(request.messages);
      expect(line.tools).toEqual(request.tools);
      expect(line.messages.at(-1)).toMatchObject({
        role: "assistant",
        tool_calls: [{ function: { name: "submit" } }],
      });
      const answered = line.messages.filter((message: { role: string }) => message.role === "tool");
      const made = line.messages.flatMap(
        (message: { tool_calls?: { id: string }[] }) => message.tool_calls ?? [],
      );
      expect(answered.map((message: { tool_call_id: string }) => message.tool_call_id)).toEqual(
        made.slice(0, -1).map((call: { id: string }) => call.id),
      );
    }
    // The bugs of a frozen evaluation set are never trained on.
    const setPath = join(temp.path, "held-out.json");
    const made = await runCli(["eval", "make-set", "--from-store", store.path, "--out", setPath]);
    expect(made.code, made.stderr).toBe(0);
    expect(await exportSft("--all", "--exclude-set", setPath)).toEqual([]);
    const refused = await runCli([
      "export",
      "--store",
      store.path,
      "--format",
      "sft",
      "--out",
      out,
      "--per-artifact",
      "0",
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(/--per-artifact expects a positive integer, got "0"$/);
  });
});
