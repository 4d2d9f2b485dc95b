// `POST /v1/eval` on a real `swe-selfplay serve` process: a one-task set evaluated with k = 2 against a
// scripted model server, polled to completion with its figures; a repeat finds the same evaluation; bad input
// is answered 400 naming what is wrong.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TASK_SET_SCHEMA, taskEntry } from "../../src/eval/index.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import {
  type ReceivedRequest,
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "../support/scripted-model-server.js";
import { makeTempDir } from "../support/tmp.js";
import { type ServeProcess, startServe } from "./serve-process.js";

const temp = makeTempDir("serve-eval-");
const artifact = pythonFixtureArtifact();
let service: ServeProcess | undefined;
let model: ScriptedModelServer | undefined;

const call = (name: string, args: Record<string, unknown>): ScriptStep => ({
  reply: { content: "", toolCalls: [{ name, arguments: args }] },
});
function fix(request: ReceivedRequest): ScriptStep {
  const turn = request.body.messages.filter(
    (message: { role: string }) => message.role === "assistant",
  ).length;
  if (turn === 0)
    return call("editor", { command: "create", path: "/tmp/bug.diff", file_text: artifact.bugInjectDiff });
  if (turn === 1) return call("bash", { command: "git apply -R /tmp/bug.diff" });
  return call("submit", {});
}

// biome-ignore lint/suspicious/noExplicitAny: the answer is whatever the service sent.
async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  const repo = await makePythonFixtureRepo(temp.path);
  model = await startScriptedModelServer(fix);
  service = await startServe([
    "--repo",
    `${artifact.meta.environment}=${repo}`,
    "--store",
    join(temp.path, "store.db"),
  ]);
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await model?.close();
  temp.remove();
});

const set = () => ({
  schema: TASK_SET_SCHEMA,
  name: "one",
  created_at: new Date(0).toISOString(),
  source: {},
  tasks: [taskEntry(artifact, artifact.meta.environment)],
});
const body = () => ({
  task_set: set(),
  attempts: 2,
  inference: { kind: "openai-chat", base_url: model!.baseUrl, model: "scripted" },
  policy_version: "step-0",
});

describe("POST /v1/eval", () => {
  it("evaluates a set through the service and reports its figures", async () => {
    const accepted = await post(`${service!.url}/v1/eval`, body());
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const id = accepted.body.evaluation_id;
    let view = accepted.body;
    for (let polls = 0; view.status === "running" && polls < 20; polls++)
      view = await (await fetch(`${service!.url}/v1/eval/${id}?wait=30`)).json();
    expect(view).toMatchObject({ status: "completed", done: 2, total: 2, error: null });
    expect(view.figures).toMatchObject({
      attempts: 2,
      resolved: 2,
      resolveRate: 1,
      passAtK: { "1": 1, "2": 1 },
    });
    const again = await post(`${service!.url}/v1/eval`, body());
    expect(again).toMatchObject({ status: 200, body: { evaluation_id: id, status: "completed" } });
    expect(model!.requests).toHaveLength(6);
  }, 240_000);

  it("answers bad input 400, naming what is wrong", async () => {
    const zero = await post(`${service!.url}/v1/eval`, { ...body(), attempts: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.error.message).toMatch(/^body\.attempts: /);
    const elsewhere = body();
    elsewhere.task_set.tasks[0]!.environment = "nowhere";
    const unknown = await post(`${service!.url}/v1/eval`, elsewhere);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/environment "nowhere" is not configured/);
    const changed = body();
    changed.task_set.tasks[0]!.artifact!.bug_inject_diff += "\n";
    const refused = await post(`${service!.url}/v1/eval`, changed);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/tasks\.0: the artifact's files hash to \w+, not the pinned/);
    const missing = await fetch(`${service!.url}/v1/eval/ev-0000`);
    expect(missing.status).toBe(404);
  }, 60_000);
});
