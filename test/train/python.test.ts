// The Python package's own tests (python/tests, pytest) with the trainer's venv: samples and their checks,
// the rollout directory reader, the service client against a stand-in speaking the service's HTTP contract,
// advantages, staleness, the PPO-clip loss, a LoRA policy on a tiny real model, and the engine adapters:
// verl through its own AgentLoopWorker (on its newest and its oldest supported version), slime (stand-in
// Sample), TRL's GRPOTrainer training one step, and the verifiers environment package under verifiers.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot, runProgram } from "../support/cli.js";
import { findTrainerPython } from "../support/trainer-python.js";
import { vllmRequired } from "../support/vllm-server.js";

const python = findTrainerPython();
if (typeof python !== "string") {
  if (vllmRequired) throw new Error(`CI=true or REQUIRE_VLLM=1, but ${python.missing}`);
  process.stderr.write(`skipped, why: ${python.missing} (set REQUIRE_VLLM=1 to make this fail)\n`);
}

describe.skipIf(typeof python !== "string")("the swe_selfplay Python package", () => {
  it("passes its pytest suite", async () => {
    const result = await runProgram(
      "nice",
      ["-n", "10", python as string, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
      {
        cwd: join(projectRoot, "python"),
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
        timeoutMs: 1_200_000,
      },
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/\d+ passed/);
    expect(result.stdout).not.toMatch(/skipped/);
  }, 1_260_000);
});
