// The verifiers environment package (python/environments/swe_selfplay_env), installed the way a user
// installs it (pip, from its own pyproject) and run by verifiers' own evaluation command (`vf-eval`, verifiers
// 0.3.1 from PyPI, in the trainer's venv): each rollout is a self-play step played by a real
// `swe-selfplay serve`, which reaches the model at the endpoint and under the name given to vf-eval. Here
// the model is the scripted server (it proposes the fixture's bug and one of its two solvers reverts it), so
// the rewards are known; test/train/engines-game.test.ts runs the same command against vLLM.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfPlayScript } from "../e2e/model-script.js";
import { call, type ServeProcess, startServe } from "../serve/serve-process.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { type ScriptedModelServer, startScriptedModelServer } from "../support/scripted-model-server.js";
import { makeTempDir } from "../support/tmp.js";
import { findTrainerPython } from "../support/trainer-python.js";
import { vllmRequired } from "../support/vllm-server.js";
import { installEnvironment, readResults, vfEval } from "./verifiers-eval.js";

const python = findTrainerPython();
if (typeof python !== "string") {
  if (vllmRequired) throw new Error(`CI=true or REQUIRE_VLLM=1, but ${python.missing}`);
  process.stderr.write(`skipped, why: ${python.missing} (set REQUIRE_VLLM=1 to make this fail)\n`);
}

describe.skipIf(typeof python !== "string")("the verifiers environment under vf-eval", () => {
  const temp = makeTempDir("swe-selfplay-verifiers-");
  let model: ScriptedModelServer;
  let service: ServeProcess;
  let site: string;

  beforeAll(async () => {
    const repo = await makePythonFixtureRepo(temp.path);
    model = await startScriptedModelServer(selfPlayScript(pythonFixtureArtifact()));
    service = await startServe([
      "--store",
      join(temp.path, "store.db"),
      "--repo",
      `inkwell=${repo}`,
      "--set",
      "concurrency.solvers=2",
    ]);
    site = await installEnvironment(python as string, temp.path);
  }, 300_000);
  afterAll(async () => {
    await service?.stop();
    await model?.close();
    temp.remove();
  });

  it("scores each rollout with its step's solve rate and keeps the samples' tokens", async () => {
    const out = join(temp.path, "results");
    const result = await vfEval(python as string, site, {
      service: service.url,
      baseUrl: model.baseUrl,
      model: "scripted",
      out,
      envArgs: { group_size: 2, solver_only: false, inference_kind: "openai-chat", environment: "inkwell" },
    });
    expect(result.code, `${result.stdout.slice(-3000)}\n${result.stderr.slice(-5000)}`).toBe(0);
    const [rollout, ...more] = readResults(out);
    expect(more).toEqual([]);
    // One of two solvers reverted the bug: solve rate 1/2, proposer reward 1 - (1 + 0.8) * 1/2.
    expect(rollout).toMatchObject({ reward: 0.5 });
    expect(rollout!.metrics).toMatchObject({ solvers: 2, step_failed: 0 });
    expect(rollout!.metrics.proposer_reward).toBeCloseTo(0.1, 6);
    const roles = rollout!.trajectory.map((step) => step.extras.role).sort();
    expect(roles).toEqual(["proposer", "solver", "solver"]);
    for (const step of rollout!.trajectory) {
      expect(step.tokens.completion_ids.length).toBe(step.tokens.completion_mask.length);
      expect(step.tokens.completion_logprobs.length).toBe(step.tokens.completion_ids.length);
      expect(step.tokens.completion_mask).toContain(1);
      expect(step.tokens.prompt_ids.length).toBeGreaterThan(0);
    }
    // The step was acknowledged: its result is gone from the service.
    const stepId = rollout!.trajectory[0]!.extras.step_id;
    expect(stepId).toBeTruthy();
    expect((await call(`${service.url}/v1/steps/${stepId}`)).status).toBe(410);
  }, 600_000);
});
