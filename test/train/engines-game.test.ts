// TRL and verifiers on the real game: vLLM (CPU) serving Qwen2.5-Coder-0.5B, a real `swe-selfplay serve` on
// the example library playing solver-only steps (the built-in proposer breaks the code, the model solves it
// through vLLM, multi-turn with tools), and
// - TRL's own GRPOTrainer (test/train/trl_game.py) training one GRPO step of a LoRA on the same base model
//   from the step's samples as played (token ids, logprobs, env mask) and their SSR rewards;
// - verifiers' own `vf-eval` over the environment package python/environments/swe_selfplay_env, with vLLM
//   as the model under evaluation: the rollout's reward is the step's solve rate.
// One vLLM server for both (the machine lock in test/support/vllm-server.ts serialises real vLLM tests). Tiny
// on purpose: group size 2, two turns, 48 sampled tokens per turn, one step each. Still slow: the TRL step took
// 15 minutes on a shared 2-core machine (the backward pass over samples of a few thousand tokens), vf-eval 1.
// So the TRL step runs only with SWE_SELFPLAY_LONG_TESTS=1 (CI runs TRL's trainer on python/tests'
// test_trl_engine.py instead); vf-eval runs wherever vLLM does.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServeProcess, startServe } from "../serve/serve-process.js";
import { projectRoot, runProgram } from "../support/cli.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { makeTempDir } from "../support/tmp.js";
import { findTrainerPython } from "../support/trainer-python.js";
import { findVllm, startVllm, type VllmServer, vllmRequired } from "../support/vllm-server.js";
import { installEnvironment, readResults, vfEval } from "./verifiers-eval.js";

const installation = findVllm();
const python = findTrainerPython();
const missing =
  typeof installation === "string" ? installation : typeof python !== "string" ? python.missing : undefined;
if (missing) {
  if (vllmRequired) throw new Error(`CI=true or REQUIRE_VLLM=1, but ${missing}`);
  process.stderr.write(`skipped, why: ${missing} (set REQUIRE_VLLM=1 to make this fail)\n`);
}

const longTests = process.env.SWE_SELFPLAY_LONG_TESTS === "1";
if (!missing && !longTests)
  process.stderr.write(
    "skipped TRL on the real game, why: it trains for about 15 minutes on CPU (set SWE_SELFPLAY_LONG_TESTS=1)\n",
  );

interface TrlReport {
  global_step: number;
  logged: Record<string, number>;
  roles: string[];
  rewards: (number | null)[];
  failures: (string | null)[];
  completion_lengths: number[];
  sampled_tokens: number[];
  logprobs_sampled: number[][];
  lora_moved: boolean;
}

describe.skipIf(missing !== undefined)("TRL and verifiers on real self-play steps against vLLM", () => {
  const temp = makeTempDir("swe-selfplay-engines-game-");
  let vllm: VllmServer;
  let service: ServeProcess;

  beforeAll(async () => {
    const [server, repo] = await Promise.all([
      startVllm(installation as Exclude<typeof installation, string>, {
        acceptSeeds: true,
        logprobsMode: "processed_logprobs",
      }),
      makePythonFixtureRepo(temp.path),
    ]);
    vllm = server;
    const config = join(temp.path, "selfplay.yaml");
    writeFileSync(
      config,
      JSON.stringify({
        environments: [{ name: "inkwell", path: repo }],
        groupSize: 2,
        secondOrder: { enabled: false },
        store: join(temp.path, "store.db"),
        policy: {
          kind: "openai",
          baseUrl: vllm.baseUrl,
          model: vllm.model,
          maxTurns: 2,
          callFormat: "hermes",
          inference: { kind: "vllm" },
          contextWindow: 4096,
        },
      }),
    );
    service = await startServe(["--config", config], { timeoutMs: 180_000 });
  }, 3_300_000);

  afterAll(async () => {
    await service?.stop();
    await vllm?.stop();
    temp.remove();
  }, 60_000);

  it.skipIf(!longTests)(
    "TRL's GRPOTrainer trains one step on a real step's samples and SSR rewards",
    async () => {
      const result = await runProgram(
        "nice",
        [
          ...["-n", "10", python as string, join(projectRoot, "test/train/trl_game.py")],
          ...["--service", service.url, "--base-url", vllm.baseUrl, "--served-model", vllm.model],
          ...["--model-dir", (installation as { model: string }).model, "--max-tokens", "48"],
        ],
        {
          cwd: temp.path,
          env: {
            ...process.env,
            PYTHONPATH: join(projectRoot, "python"),
            PYTHONDONTWRITEBYTECODE: "1",
            TRL_EXPERIMENTAL_SILENCE: "1",
          },
          timeoutMs: 1_200_000,
        },
      );
      expect(result.code, result.stderr.slice(-4000)).toBe(0);
      const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as TrlReport;
      expect(report.global_step).toBe(1);
      // The built-in proposer's step: two solver samples, and the copy without a proposer sample masked.
      expect(report.failures).toEqual([null, null, null]);
      expect(report.roles).toEqual(["solver", "solver", "repeat"]);
      const solverRewards = report.rewards.slice(0, 2) as number[];
      for (const reward of solverRewards) expect([1, -1]).toContain(reward);
      expect(report.rewards[2]).toBeNull();
      // The policy's own tokens with vLLM's logprobs of them (sampled at temperature 0.7, top-p 0.95).
      for (const index of [0, 1]) {
        expect(report.sampled_tokens[index]).toBeGreaterThan(0);
        expect(report.completion_lengths[index]).toBeGreaterThanOrEqual(report.sampled_tokens[index]!);
        for (const logprob of report.logprobs_sampled[index]!) expect(logprob).toBeLessThanOrEqual(0);
      }
      // TRL's own record of what it trained on: the solvers' mean SSR reward.
      const mean = (solverRewards[0]! + solverRewards[1]!) / 2;
      expect(report.logged["rewards/ssr_solver_reward/mean"]).toBeCloseTo(mean, 6);
      // GRPO moves the weights exactly when the step's solvers disagree (otherwise every advantage is 0).
      expect(report.lora_moved).toBe(solverRewards[0] !== solverRewards[1]);
    },
    1_260_000,
  );

  it("vf-eval scores a rollout played by vLLM with its step's solve rate", async () => {
    const site = await installEnvironment(python as string, temp.path);
    const out = join(temp.path, "vf-results");
    const result = await vfEval(python as string, site, {
      service: service.url,
      baseUrl: vllm.baseUrl,
      model: vllm.model,
      out,
      envArgs: { group_size: 2, solver_only: true, inference_kind: "vllm", environment: "inkwell" },
      extra: ["--max-tokens", "48", "--temperature", "0.7"],
      timeoutMs: 1_200_000,
    });
    expect(result.code, `${result.stdout.slice(-3000)}\n${result.stderr.slice(-5000)}`).toBe(0);
    const [rollout, ...more] = readResults(out);
    expect(more).toEqual([]);
    expect(rollout!.metrics).toMatchObject({ solvers: 2, step_failed: 0 });
    expect(rollout!.trajectory.map((step) => step.extras.role)).toEqual(["solver", "solver"]);
    const resolved = rollout!.trajectory.filter((step) => (step.reward ?? 0) > 0).length;
    expect(rollout!.reward).toBeCloseTo(resolved / 2, 6);
    for (const step of rollout!.trajectory) {
      // Sampled by the model vf-eval was pointed at, with its tokens as played.
      expect(step.extras.policy_version).toBe(vllm.model);
      expect(step.tokens.completion_mask).toContain(1);
      expect(step.tokens.completion_logprobs.length).toBe(step.tokens.completion_ids.length);
    }
  }, 1_260_000);
});
