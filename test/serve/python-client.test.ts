// The Python package's service client (python/swe_selfplay/client.py, standard library only) against a real
// `serve` process: it requests a step, the service is killed with SIGKILL while the step's solvers are at
// work and started again, and the client's repeated request gets the same step, whose token-exact samples
// with their rewards it receives once and acknowledges.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runInvariantViolations } from "../../src/selfplay/invariants.js";
import { openStore, type RunId } from "../../src/store/index.js";
import { selfPlayScript } from "../e2e/model-script.js";
import { projectRoot, runProgram } from "../support/cli.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { type ScriptedModelServer, startScriptedModelServer } from "../support/scripted-model-server.js";
import { makeTempDir } from "../support/tmp.js";
import { call, startServe, untilEvent } from "./serve-process.js";

const PYTHON = "/usr/bin/python3";
const hasPython = spawnSync(PYTHON, ["-c", "import sys; sys.exit(sys.version_info < (3, 10))"]).status === 0;
if (!hasPython) process.stderr.write(`skipped, why: ${PYTHON} (3.10 or newer) is not installed\n`);

/** request: prints the step id; collect: requests again, waits, checks every sample, acknowledges. */
const CLIENT = `
import json, sys
from swe_selfplay.client import ServiceClient, StepRequest
from swe_selfplay.samples import parse_sample

mode, url, model_url = sys.argv[1:4]
client = ServiceClient(url)
request = StepRequest(
    request_id="python-crash-1",
    inference={"kind": "openai-chat", "base_url": model_url, "model": "slow"},
    policy_version="policy-v7", policy_step=7, environment="inkwell", strategy="direct", group_size=2,
)
view = client.request_step(request)
if mode == "request":
    print(json.dumps({"step_id": view.step_id}))
    sys.exit(0)
done = client.wait_step(view.step_id, timeout_s=240, poll_s=1)
samples = [parse_sample(sample) for sample in done.result["samples"]]
client.ack(view.step_id)
print(json.dumps({
    "step_id": view.step_id, "status": done.status, "solve_rate": done.result["solve_rate"],
    "samples": [{"role": s.role, "reward": s.reward, "tokens": len(s.tokens), "sampled": sum(s.loss_mask),
                 "policy_version": s.policy_version, "policy_step": s.policy_step} for s in samples],
}))
`;

describe.skipIf(!hasPython)("the Python service client across a crash of the service", () => {
  const temp = makeTempDir("swe-selfplay-python-client-");
  let repo: string;
  let model: ScriptedModelServer;
  const script = join(temp.path, "client.py");

  beforeAll(async () => {
    repo = await makePythonFixtureRepo(temp.path);
    const slow = selfPlayScript(pythonFixtureArtifact());
    model = await startScriptedModelServer(async (request) => {
      const step = await slow(request);
      return "reply" in step ? { ...step, delayMs: 1500 } : step;
    });
    writeFileSync(script, CLIENT);
  }, 120_000);
  afterAll(async () => {
    await model?.close();
    temp.remove();
  });

  const python = async (mode: "request" | "collect", url: string) => {
    const result = await runProgram(PYTHON, [script, mode, url, model.baseUrl], {
      cwd: temp.path,
      env: { ...process.env, PYTHONPATH: join(projectRoot, "python"), PYTHONDONTWRITEBYTECODE: "1" },
      timeoutMs: 300_000,
    });
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
  };

  it("gets the same step after SIGKILL and restart, and its samples with rewards exactly once", async () => {
    const store = join(temp.path, "store.db");
    const args = ["--store", store, "--repo", `inkwell=${repo}`, "--set", "concurrency.solvers=2"];
    let service = await startServe(args);
    let stepId: string;
    try {
      ({ step_id: stepId } = await python("request", service.url));
      // Kill once the artifact is valid and the solvers are at work.
      const { seen, reader } = await untilEvent(service.url, stepId, "artifact-validated");
      expect(seen).toContain("event: artifact-validated");
      await service.kill();
      await reader.cancel().catch(() => {});
      service = await startServe(args);
      const collected = await python("collect", service.url);
      expect(collected).toMatchObject({ step_id: stepId, status: "done", solve_rate: 0.5 });
      expect(collected.samples.map((sample: { role: string }) => sample.role).sort()).toEqual([
        "proposer",
        "solver",
        "solver",
      ]);
      for (const sample of collected.samples) {
        expect(sample).toMatchObject({ policy_version: "policy-v7", policy_step: 7 });
        expect(typeof sample.reward).toBe("number");
        expect(sample.sampled).toBeGreaterThan(0);
      }
      // Acknowledged: the result may go now, and says so instead of coming back a second time.
      expect((await call(`${service.url}/v1/steps/${stepId}`)).status).toBe(410);
    } finally {
      await service.stop();
    }
    const database = openStore(store, { readonly: true });
    try {
      const runs = database.listRuns();
      expect(runs).toHaveLength(1);
      expect(runInvariantViolations(database, runs[0]!.id as RunId)).toEqual([]);
      const steps = database.listSteps(runs[0]!.id as RunId);
      expect(steps).toHaveLength(1);
    } finally {
      database.close();
    }
  }, 300_000);
});
