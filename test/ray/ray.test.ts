// `serve` replicas on a real multi-node Ray cluster (python/tests_ray, pytest with the trainer's venv, where
// Ray comes from scripts/prepare-trainer.sh): this file gives them a scripted model server and the Python
// fixture repository, and the CLI to start replicas with. Spread, a killed replica, a lost node in the
// middle of the trainer's rollout stage, bad input; the cluster's peak memory is printed and bounded there.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot, runProgram } from "../support/cli.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import type { ScriptedModelServer } from "../support/scripted-model-server.js";
import { makeTempDir } from "../support/tmp.js";
import { findTrainerPython } from "../support/trainer-python.js";
import { vllmRequired } from "../support/vllm-server.js";
import { startRayModel } from "./model.js";

const python = findTrainerPython();
if (typeof python !== "string") {
  if (vllmRequired) throw new Error(`CI=true or REQUIRE_VLLM=1, but ${python.missing}`);
  process.stderr.write(`skipped, why: ${python.missing} (set REQUIRE_VLLM=1 to make this fail)\n`);
}

describe.skipIf(typeof python !== "string")("serve replicas on a multi-node Ray cluster", () => {
  const temp = makeTempDir("swe-selfplay-ray-");
  let model: ScriptedModelServer;
  let repo: string;

  beforeAll(async () => {
    [model, repo] = await Promise.all([startRayModel(), makePythonFixtureRepo(temp.path)]);
  }, 120_000);
  afterAll(async () => {
    await model?.close();
    temp.remove();
  });

  it("spreads, restarts, survives a lost node and refuses bad input in one line each", async () => {
    const report = join(temp.path, "report.json");
    const result = await runProgram(
      "nice",
      ["-n", "10", python as string, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests_ray"],
      {
        cwd: join(projectRoot, "python"),
        env: {
          ...process.env,
          PYTHONDONTWRITEBYTECODE: "1",
          SWE_SELFPLAY_RAY_MODEL_URL: model.baseUrl,
          SWE_SELFPLAY_RAY_REPO: repo,
          SWE_SELFPLAY_RAY_CLI: JSON.stringify([process.execPath, join(projectRoot, "bin/swe-selfplay.js")]),
          SWE_SELFPLAY_RAY_REPORT: report,
          RAY_USAGE_STATS_ENABLED: "0",
        },
        timeoutMs: 600_000,
      },
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/8 passed/);
    expect(result.stdout).not.toMatch(/skipped/);
    process.stderr.write(`ray cluster: ${readFileSync(report, "utf8")}\n`);
  }, 660_000);
});
