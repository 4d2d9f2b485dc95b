import { afterEach, describe, expect, it } from "vitest";
import {
  type ScriptedModelServer,
  startScriptedModelServer,
  tokenize,
  tokenLogprob,
} from "../../test/support/scripted-model-server.js";
import { InfrastructureError } from "../errors.js";
import { createModelClient } from "./openai-client.js";

let server: ScriptedModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const fast = { retryBaseDelayMs: 5, retryMaxDelayMs: 20 };

describe("createModelClient", () => {
  it("sends the sampling settings and tools, and returns tool calls with exact token ids and logprobs", async () => {
    server = await startScriptedModelServer([
      { reply: { content: "looking", toolCalls: [{ name: "bash", arguments: { command: "ls" } }] } },
    ]);
    const client = createModelClient({
      baseUrl: server.baseUrl,
      model: "m",
      apiKey: "secret",
      maxTokens: 100,
    });
    const result = await client.complete({
      messages: [{ role: "user", content: "hi" }],
      tools: [{ name: "bash", description: "run", parameters: { type: "object" } }],
      seed: 7,
    });
    expect(result.status).toBe("ok");
    if (result.status !== "ok") return;
    const request = server.requests[0]!;
    expect(request.body).toMatchObject({ model: "m", temperature: 1, top_p: 0.95, max_tokens: 100, seed: 7 });
    expect(request.body.tools[0].function.name).toBe("bash");
    expect(request.authorization).toBe("Bearer secret");
    const { completion } = result;
    expect(completion.toolCalls).toEqual([{ id: "call_0_0", name: "bash", arguments: '{"command":"ls"}' }]);
    expect(completion.tokens?.promptTokenIds).toEqual(request.promptTokenIds);
    const sampled = tokenize('looking<call name="bash">{"command":"ls"}</call><|end|>\n');
    expect(completion.tokens?.completionTokenIds).toEqual(sampled);
    expect(completion.tokens?.logprobs).toEqual(sampled.map(tokenLogprob));
    expect(completion.usage.completionTokens).toBe(sampled.length);
  });

  it("reads the SGLang shape (prompt ids on the choice)", async () => {
    server = await startScriptedModelServer([{ reply: { content: "ok" } }], { shape: "sglang" });
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m" });
    const result = await client.complete({ messages: [{ role: "user", content: "hi" }] });
    expect(result.status === "ok" && result.completion.tokens?.promptTokenIds).toEqual(
      server.requests[0]!.promptTokenIds,
    );
  });

  it("retries 500 and 429, then succeeds", async () => {
    server = await startScriptedModelServer([
      { error: { status: 500, message: "boom" } },
      { error: { status: 429, message: "slow down", retryAfterSeconds: 0 } },
      { reply: { content: "done" } },
    ]);
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m", ...fast });
    const result = await client.complete({ messages: [{ role: "user", content: "hi" }] });
    expect(result.status === "ok" && result.completion.content).toBe("done");
    expect(server.requests).toHaveLength(3);
  });

  it("retries a hanging request after its timeout and a dropped connection", async () => {
    server = await startScriptedModelServer([{ hang: true }, { drop: true }, { reply: { content: "back" } }]);
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m", requestTimeoutMs: 300, ...fast });
    const result = await client.complete({ messages: [{ role: "user", content: "hi" }] });
    expect(result.status === "ok" && result.completion.content).toBe("back");
    expect(server.requests).toHaveLength(3);
  });

  it("gives up after the bounded number of retries with a clear error", async () => {
    server = await startScriptedModelServer(() => ({ error: { status: 503, message: "overloaded" } }));
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m", maxRetries: 2, ...fast });
    const failure = await client
      .complete({ messages: [{ role: "user", content: "hi" }] })
      .catch((error) => error);
    expect(failure).toBeInstanceOf(InfrastructureError);
    expect(failure.message).toMatch(/failed 3 times.*HTTP 503.*overloaded/);
    expect(server.requests).toHaveLength(3);
  });

  it("does not retry a 4xx and says what the server said", async () => {
    server = await startScriptedModelServer([{ error: { status: 401, message: "bad key" } }]);
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m", ...fast });
    const failure = await client
      .complete({ messages: [{ role: "user", content: "hi" }] })
      .catch((error) => error);
    expect(failure).toBeInstanceOf(InfrastructureError);
    expect(failure.message).toContain("HTTP 401: bad key");
    expect(server.requests).toHaveLength(1);
  });

  it("reports a context overflow as data", async () => {
    server = await startScriptedModelServer([{ reply: { content: "never" } }], { maxContextTokens: 50 });
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m" });
    const result = await client.complete({ messages: [{ role: "user", content: "x".repeat(100) }] });
    expect(result.status).toBe("context-overflow");
    if (result.status === "context-overflow") expect(result.message).toMatch(/maximum context length is 50/);
  });

  it("drops the token id fields when the server refuses them, and records no tokens", async () => {
    server = await startScriptedModelServer(() => ({ reply: { content: "plain" } }), {
      rejectTokenIdFields: true,
    });
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m" });
    const first = await client.complete({ messages: [{ role: "user", content: "hi" }] });
    expect(first.status === "ok" && first.completion.tokens).toBeNull();
    await client.complete({ messages: [{ role: "user", content: "again" }] });
    expect(server.requests.map((request) => request.body.return_token_ids)).toEqual([
      true,
      undefined,
      undefined,
    ]);
  });

  it("stops at once when aborted", async () => {
    server = await startScriptedModelServer([{ hang: true }]);
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop now")), 100);
    const failure = await client
      .complete({ messages: [{ role: "user", content: "hi" }], abortSignal: controller.signal })
      .catch((error) => error);
    expect(failure.message).toBe("stop now");
  });
});
