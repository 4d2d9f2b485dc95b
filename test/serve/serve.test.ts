// `swe-selfplay serve` end to end: a real service process, real HTTP clients (fetch), the scripted model
// server as inference (a real OpenAI-protocol server) and the built-in policy. Exactly once across
// repeats and a SIGKILL, cancel, back-pressure, malformed bodies, long polls that lose their client,
// and access with and without a token.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweBenchLines } from "../../src/selfplay/index.js";
import { runInvariantViolations } from "../../src/selfplay/invariants.js";
import { openStore, type RunId } from "../../src/store/index.js";
import { selfPlayScript } from "../e2e/model-script.js";
import { runCli } from "../support/cli.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import {
  type ReceivedRequest,
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "../support/scripted-model-server.js";
import { makeTempDir } from "../support/tmp.js";
import { call, type ServeProcess, startServe, untilEvent } from "./serve-process.js";

const artifact = pythonFixtureArtifact();

/** Replies by model name: a full proposer/solver script, a slow one, a quick failure, or a hang. */
function modelScript(): (request: ReceivedRequest) => ScriptStep | Promise<ScriptStep> {
  const full = selfPlayScript(artifact);
  const slow = selfPlayScript(artifact);
  return async (request) => {
    switch (request.body.model) {
      case "full":
        return full(request);
      case "slow": {
        const step = slow(request);
        return "reply" in step ? { ...step, delayMs: 1500 } : step;
      }
      case "hang":
        return { hang: true };
      default:
        // An unknown tool: a format error each turn, so the episode ends quickly without an artifact.
        return { reply: { content: "no", toolCalls: [{ name: "nope", arguments: {} }] } };
    }
  };
}

describe("swe-selfplay serve", () => {
  const temp = makeTempDir("swe-selfplay-serve-");
  let repo: string;
  let model: ScriptedModelServer;
  let service: ServeProcess;
  // biome-ignore lint/suspicious/noExplicitAny: the step view is checked field by field.
  let firstDone: any;
  const store = () => join(temp.path, "store.db");
  const inference = (name: string) => ({ kind: "openai-chat", base_url: model.baseUrl, model: name });
  const serveArgs = (storePath = store()) => [
    "--store",
    storePath,
    "--repo",
    `inkwell=${repo}`,
    "--set",
    "concurrency.proposers=4",
    "--set",
    "concurrency.solvers=4",
    "--set",
    "concurrency.sandboxes=12",
    "--set",
    "secondOrder.enabled=false",
  ];

  beforeAll(async () => {
    repo = await makePythonFixtureRepo(temp.path);
    model = await startScriptedModelServer(modelScript(), { keepRequests: false });
    service = await startServe(serveArgs());
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await model?.close();
    temp.remove();
  });

  it("plays a model step: token-exact samples with rewards, once per request id", async () => {
    const body = {
      request_id: "model-step-1",
      environment: "inkwell",
      strategy: "direct",
      group_size: 2,
      inference: inference("full"),
      policy_version: "v7",
      policy_step: 7,
    };
    const accepted = await call(`${service.url}/v1/steps`, { body });
    expect(accepted.status).toBe(202);
    expect(accepted.body.step_id).toMatch(/^r[0-9a-f]{8}-/);
    const again = await call(`${service.url}/v1/steps`, { body });
    expect(again).toMatchObject({ status: 200, body: { step_id: accepted.body.step_id } });
    const changed = await call(`${service.url}/v1/steps`, { body: { ...body, group_size: 3 } });
    expect(changed.status).toBe(409);
    expect(changed.body.error.path).toBe("body.group_size");

    const done = await waitDone(service.url, accepted.body.step_id);
    expect(done).toMatchObject({ status: "done", policy_version: "v7", policy_step: 7 });
    const { result } = done;
    expect(result).toMatchObject({ valid: true, solve_rate: 0.5, validation: { verdict: "valid" } });
    expect(result.episodes.map((episode: { role: string }) => episode.role).sort()).toEqual([
      "proposer",
      "solver",
      "solver",
    ]);
    const roles = new Set(result.samples.map((sample: { role: string }) => sample.role));
    expect(roles).toEqual(new Set(["proposer", "solver"]));
    for (const sample of result.samples) {
      expect(sample).toMatchObject({ schema: "rollout.v1", policy_version: "v7", meta: { policy_step: 7 } });
      expect(sample.reward).not.toBeNull();
      expect(sample.tokens.length).toBe(sample.loss_mask.length);
      expect(sample.meta.turn_models).toContain("full");
    }
    // Still the same step and the same result.
    expect((await call(`${service.url}/v1/steps`, { body })).body.step_id).toBe(accepted.body.step_id);
    expect((await call(`${service.url}/v1/steps/${accepted.body.step_id}`)).body).toEqual(done);
    firstDone = done;
  }, 180_000);

  it("repairs a stored artifact on demand (POST /v1/solve): solver samples only, no proposer reward", async () => {
    const artifactId = firstDone?.result.artifact_id ?? null;
    if (artifactId === null) return; // needs the model step's artifact
    const body = {
      request_id: "solve-1",
      artifact_id: artifactId,
      group_size: 2,
      inference: inference("full"),
      policy_version: "v7",
    };
    const accepted = await call(`${service.url}/v1/solve`, { body });
    expect(accepted.status).toBe(202);
    const done = await waitDone(service.url, accepted.body.step_id);
    expect(done).toMatchObject({
      status: "done",
      result: { artifact_id: artifactId, valid: true, solve_rate: 0.5 },
    });
    expect(done.result.episodes.map((episode: { role: string }) => episode.role)).toEqual([
      "solver",
      "solver",
    ]);
    for (const sample of done.result.samples)
      expect(sample).toMatchObject({ role: "solver", policy_version: "v7" });
    expect((await call(`${service.url}/v1/solve`, { body })).body.step_id).toBe(accepted.body.step_id);
  }, 120_000);

  it("repairs a SWE-bench-style line as `export --format swebench` writes it (POST /v1/solve)", async () => {
    const artifactId = firstDone?.result.artifact_id ?? null;
    if (artifactId === null) return; // needs the model step's artifact
    const reader = openStore(store(), { readonly: true });
    let line: unknown;
    try {
      const lines = sweBenchLines(reader, reader.latestRun()!.id);
      line = JSON.parse(JSON.stringify(lines.find((each) => each.artifact_id === artifactId)));
    } finally {
      reader.close();
    }
    expect(line).toBeTruthy();
    const body = {
      request_id: "solve-swebench",
      swebench_instance: line,
      group_size: 2,
      inference: inference("full"),
      policy_version: "v8",
    };
    const accepted = await call(`${service.url}/v1/solve`, { body });
    expect(accepted.status).toBe(202);
    const done = await waitDone(service.url, accepted.body.step_id);
    // The same five files: the same artifact, validated again in this environment and solved by the group.
    expect(done).toMatchObject({ status: "done", result: { artifact_id: artifactId, valid: true } });
    expect(done.result.episodes.map((episode: { role: string }) => episode.role)).toEqual([
      "solver",
      "solver",
    ]);
    for (const sample of done.result.samples)
      expect(sample).toMatchObject({ role: "solver", policy_version: "v8" });

    const elsewhere = { ...(line as object), repo: "nowhere" };
    const bad = await call(`${service.url}/v1/solve`, {
      body: { ...body, request_id: "solve-swebench-bad", swebench_instance: elsewhere },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.path).toBe("body.swebench_instance.repo");
  }, 120_000);

  it("answers 400 with the bad field's path, 404, 413 and the OpenAPI document", async () => {
    const base = { request_id: "bad", inference: { kind: "builtin" }, policy_version: "v" };
    const cases: [unknown, string][] = [
      [{ ...base, request_id: undefined }, "body.request_id"],
      [
        { ...base, inference: { kind: "vllm", base_url: "not a url", model: "m" } },
        "body.inference.base_url",
      ],
      [{ ...base, group_size: 0 }, "body.group_size"],
      [{ ...base, strategy: "guess" }, "body.strategy"],
      [{ ...base, sampling: { temperature: "hot" } }, "body.sampling.temperature"],
      [{ ...base, policy_step: -1 }, "body.policy_step"],
      [{ ...base, extra: 1 }, "body"],
      [{ ...base, environment: "nowhere" }, "body.environment"],
    ];
    for (const [body, path] of cases) {
      const answer = await call(`${service.url}/v1/steps`, { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.path, JSON.stringify(answer.body)).toBe(path);
    }
    expect((await call(`${service.url}/v1/steps`, { raw: "{not json" })).status).toBe(400);
    const huge = { ...base, request_id: "x".repeat(100), policy_version: "v".repeat(2_000_000) };
    expect((await call(`${service.url}/v1/steps`, { body: huge })).status).toBe(413);
    expect((await call(`${service.url}/v1/steps/nope`)).status).toBe(404);
    const solve = await call(`${service.url}/v1/solve`, {
      body: { ...base, request_id: "solve-bad", artifact_id: "0".repeat(64) },
    });
    expect(solve.body.error.path).toBe("body.artifact_id");
    const openapi = await call(`${service.url}/v1/openapi.json`);
    expect(openapi.body.openapi).toBe("3.1.0");
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(["/v1/steps", "/v1/steps/{step_id}", "/v1/solve", "/v1/stats"]),
    );
    expect((await call(`${service.url}/v1/health`)).body).toMatchObject({ status: "ok" });
    expect((await call(`${service.url}/v1/environments`)).body.environments).toEqual([
      { name: "inkwell", kind: "dir", status: "active" },
    ]);
  });

  it("runs 32 concurrent steps, each exactly once", async () => {
    const bodies = Array.from({ length: 32 }, (_, index) => ({
      request_id: `quick-${index}`,
      inference: inference("quick"),
      policy_version: "v8",
      policy_step: 8,
    }));
    const accepted = await Promise.all(bodies.map((body) => call(`${service.url}/v1/steps`, { body })));
    expect(accepted.map((answer) => answer.status)).toEqual(bodies.map(() => 202));
    // Every request sent twice at once more: the same steps, none new.
    const repeats = await Promise.all(bodies.map((body) => call(`${service.url}/v1/steps`, { body })));
    expect(repeats.map((answer) => answer.body.step_id)).toEqual(
      accepted.map((answer) => answer.body.step_id),
    );
    const stats = await call(`${service.url}/v1/stats`);
    expect(stats.body.queue.depth + stats.body.in_flight).toBeGreaterThan(0);
    const views = await Promise.all(accepted.map((answer) => waitDone(service.url, answer.body.step_id)));
    expect(new Set(views.map((view) => view.step_id)).size).toBe(32);
    for (const view of views) {
      expect(view.status).toBe("done");
      expect(view.result.episodes).toHaveLength(1);
      expect(view.result.episodes[0]).toMatchObject({ role: "proposer", reward: -1 });
    }
    expect((await call(`${service.url}/v1/stats`)).body).toMatchObject({ in_flight: 0, queue: { depth: 0 } });
  }, 180_000);

  it("cancels a step, and a long poll whose client goes away leaves nothing behind", async () => {
    const { body } = await call(`${service.url}/v1/steps`, {
      body: { request_id: "hang-1", inference: inference("hang"), policy_version: "v9" },
    });
    const abandoned = new AbortController();
    const poll = call(`${service.url}/v1/steps/${body.step_id}?wait=60`, { signal: abandoned.signal }).catch(
      (error: unknown) => error,
    );
    await until(async () => (await call(`${service.url}/v1/stats`)).body.waiting_clients === 1);
    abandoned.abort();
    expect(await poll).toBeInstanceOf(Error);
    await until(async () => (await call(`${service.url}/v1/stats`)).body.waiting_clients === 0);

    const events = fetch(`${service.url}/v1/steps/${body.step_id}/events`).then((response) =>
      response.text(),
    );
    const cancelled = await call(`${service.url}/v1/steps/${body.step_id}`, { method: "DELETE" });
    expect(cancelled.body).toMatchObject({ status: "cancelled", reason: "cancelled by the client" });
    expect(await events).toMatch(/event: done\ndata: \{[^\n]*"status":"cancelled"/);
    const later = await call(`${service.url}/v1/steps/${body.step_id}?wait=1`);
    expect(later.body.status).toBe("cancelled");
  }, 60_000);

  it("fails a queued step that is too stale, and prunes an acknowledged result", async () => {
    await call(`${service.url}/v1/steps`, {
      body: { request_id: "fresh", inference: { kind: "builtin" }, policy_version: "v20", policy_step: 20 },
    }).then((answer) => call(`${service.url}/v1/steps/${answer.body.step_id}`, { method: "DELETE" }));
    const stale = await call(`${service.url}/v1/steps`, {
      body: { request_id: "stale", inference: inference("quick"), policy_version: "v3", policy_step: 3 },
    });
    const view = await waitDone(service.url, stale.body.step_id);
    expect(view).toMatchObject({ status: "failed", reason: "stale: policy_step 3 < 20 - 2" });
    expect((await call(`${service.url}/v1/steps/${stale.body.step_id}/ack`, { method: "POST" })).status).toBe(
      200,
    );
    expect((await call(`${service.url}/v1/steps/${stale.body.step_id}`)).status).toBe(410);
  }, 60_000);

  it("resumes a step in flight after SIGKILL; nothing lost, nothing counted twice", async () => {
    const body = {
      request_id: "crash-1",
      environment: "inkwell",
      strategy: "direct",
      group_size: 2,
      inference: inference("slow"),
      policy_version: "v30",
      policy_step: 30,
    };
    // A store of its own: the main one already holds this artifact, which would make the step a duplicate.
    const crashStore = join(temp.path, "crash.db");
    let crashing = await startServe(serveArgs(crashStore));
    try {
      const { body: accepted } = await call(`${crashing.url}/v1/steps`, { body });
      // Kill once the artifact is valid and the solvers are at work.
      const { reader } = await untilEvent(crashing.url, accepted.step_id, "artifact-validated");
      await crashing.kill();
      await reader.cancel().catch(() => {});
      crashing = await startServe(serveArgs(crashStore));
      const again = await call(`${crashing.url}/v1/steps`, { body });
      expect(again).toMatchObject({ status: 200, body: { step_id: accepted.step_id } });
      const done = await waitDone(crashing.url, accepted.step_id);
      expect(done).toMatchObject({ status: "done", result: { valid: true, solve_rate: 0.5 } });
      const rewarded = done.result.episodes.filter(
        (episode: { reward: number | null }) => episode.reward !== null,
      );
      expect(rewarded.map((episode: { role: string }) => episode.role).sort()).toEqual([
        "proposer",
        "solver",
        "solver",
      ]);
      const rewardedIds = new Set(rewarded.map((episode: { episode_id: string }) => episode.episode_id));
      for (const sample of done.result.samples) expect(rewardedIds.has(sample.episode_id)).toBe(true);
      expect((await call(`${crashing.url}/v1/steps/${accepted.step_id}`)).body).toEqual(done);
    } finally {
      await crashing.stop();
    }
    const database = openStore(crashStore, { readonly: true });
    try {
      const runId = database.listRuns()[0]!.id as RunId;
      expect(runInvariantViolations(database, runId)).toEqual([]);
    } finally {
      database.close();
    }
    // The main service's finished result is untouched by everything since (when that test ran).
    if (firstDone)
      expect((await call(`${service.url}/v1/steps/${firstDone.step_id}`)).body).toEqual(firstDone);
  }, 180_000);
});

describe("serve access", () => {
  const temp = makeTempDir("swe-selfplay-serve-auth-");
  let repo: string;

  beforeAll(async () => {
    repo = await makePythonFixtureRepo(temp.path);
  }, 60_000);
  afterAll(() => temp.remove());

  it("needs the bearer token when one is set, refuses a non-loopback address without one, and says 429 when full", async () => {
    const tokenFile = join(temp.path, "token");
    writeFileSync(tokenFile, "s3cret-token\n");
    const args = ["--store", join(temp.path, "store.db"), "--repo", `inkwell=${repo}`];
    const service = await startServe([...args, "--token-file", tokenFile, "--set", "serve.queueCapacity=1"]);
    try {
      expect((await call(`${service.url}/v1/health`)).status).toBe(401);
      expect((await call(`${service.url}/v1/health`, { token: "wrong" })).status).toBe(401);
      expect((await call(`${service.url}/v1/health`, { token: "s3cret-token" })).status).toBe(200);
      const hang = { kind: "openai-chat", base_url: "http://127.0.0.1:9/v1", model: "m" };
      const first = await call(`${service.url}/v1/steps`, {
        token: "s3cret-token",
        body: { request_id: "one", inference: hang, policy_version: "v" },
      });
      expect(first.status).toBe(202);
      const second = await call(`${service.url}/v1/steps`, {
        token: "s3cret-token",
        body: { request_id: "two", inference: hang, policy_version: "v" },
      });
      expect(second.status).toBe(429);
      expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(0);
      await call(`${service.url}/v1/steps/${first.body.step_id}`, {
        method: "DELETE",
        token: "s3cret-token",
      });
    } finally {
      await service.stop();
    }
    expect(service.stderr()).not.toContain("s3cret-token");
    await expect(startServe([...args, "--listen", "0.0.0.0:0"])).rejects.toThrow(/token/);
  }, 120_000);

  it("refuses a non-loopback address without a token before any work: no example built, no store made", async () => {
    const fresh = join(temp.path, "fresh");
    const result = await runCli(["serve", "--listen", "0.0.0.0:0", "--store", join(fresh, "store.db")], {
      env: { SWE_SELFPLAY_TOKEN: "" },
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      "swe-selfplay: listening on 0.0.0.0 (not loopback) needs a bearer token: pass --token-file FILE or set SWE_SELFPLAY_TOKEN",
    );
    expect(existsSync(fresh)).toBe(false);
  });
});

// biome-ignore lint/suspicious/noExplicitAny: the step view is checked field by field.
async function waitDone(url: string, stepId: string): Promise<any> {
  for (;;) {
    const { body } = await call(`${url}/v1/steps/${stepId}?wait=30`);
    if (body.status !== "queued" && body.status !== "running") return body;
  }
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
