import { Agent, getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ScriptedModelServer,
  startScriptedModelServer,
  tokenize,
  tokenLogprob,
} from "../../test/support/scripted-model-server.js";
import { InfrastructureError } from "../errors.js";
import type { ChatMessage } from "../ports/model.js";
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

  it("waits for headers as long as requestTimeoutMs, whatever the HTTP client's own default", async () => {
    // The default dispatcher's header timeout (300 s in Node) stands here shortened to 300 ms.
    const previous = getGlobalDispatcher();
    setGlobalDispatcher(new Agent({ headersTimeout: 300, bodyTimeout: 300 }));
    try {
      server = await startScriptedModelServer([{ reply: { content: "slow" }, delayMs: 1000 }]);
      const client = createModelClient({
        baseUrl: server.baseUrl,
        model: "m",
        requestTimeoutMs: 5000,
        maxRetries: 0,
      });
      const result = await client.complete({ messages: [{ role: "user", content: "hi" }] });
      expect(result.status === "ok" && result.completion.content).toBe("slow");
    } finally {
      setGlobalDispatcher(previous);
    }
  });

  it("sends every sampling setting as configured and records exactly what it sends", async () => {
    server = await startScriptedModelServer([{ reply: { content: "ok" } }]);
    const client = createModelClient({
      baseUrl: server.baseUrl,
      model: "m",
      temperature: 0.2,
      topP: 0.8,
      topK: 20,
      minP: 0.05,
      extraBody: { repetition_penalty: 1.1 },
    });
    await client.complete({ messages: [{ role: "user", content: "hi" }] });
    const sent = server.requests[0]!.body;
    expect(sent).toMatchObject({
      model: "m",
      temperature: 0.2,
      top_p: 0.8,
      top_k: 20,
      min_p: 0.05,
      max_tokens: 4096,
      repetition_penalty: 1.1,
    });
    expect(client.sampling).toEqual({
      model: "m",
      temperature: 0.2,
      top_p: 0.8,
      top_k: 20,
      min_p: 0.05,
      max_tokens: 4096,
      extra_body: { repetition_penalty: 1.1 },
    });
  });

  it("leaves the per-request seed out when seeds are off, and records that it did", async () => {
    server = await startScriptedModelServer([{ reply: { content: "a" } }, { reply: { content: "b" } }]);
    const seeded = createModelClient({ baseUrl: server.baseUrl, model: "m" });
    await seeded.complete({ messages: [{ role: "user", content: "hi" }], seed: 11 });
    const unseeded = createModelClient({ baseUrl: server.baseUrl, model: "m", sendSeeds: false });
    await unseeded.complete({ messages: [{ role: "user", content: "hi" }], seed: 11 });
    expect(server.requests[0]!.body.seed).toBe(11);
    expect(server.requests[1]!.body).not.toHaveProperty("seed");
    expect(server.requests[1]!.body).not.toHaveProperty("seeds");
    expect(seeded.sampling).not.toHaveProperty("seeds");
    expect(unseeded.sampling.seeds).toBe(false);
  });
});

describe("createModelClient against a llama.cpp-shaped server", () => {
  const bash = { name: "bash", description: "run", parameters: { type: "object" } };

  it("sends tool_choice auto with the tools, so the server shows them to the model and returns tool calls", async () => {
    server = await startScriptedModelServer(
      () => ({ reply: { toolCalls: [{ name: "bash", arguments: {} }] } }),
      {
        shape: "llama.cpp",
      },
    );
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m" });
    const result = await client.complete({ messages: [{ role: "user", content: "hi" }], tools: [bash] });
    expect(server.requests[0]!.body.tool_choice).toBe("auto");
    expect(server.requests[0]!.promptText).toContain("<|tools|>");
    expect(result.status === "ok" && result.completion.toolCalls.map((call) => call.name)).toEqual(["bash"]);

    const omitting = createModelClient({ baseUrl: server.baseUrl, model: "m", toolChoice: "omit" });
    const without = await omitting.complete({ messages: [{ role: "user", content: "hi" }], tools: [bash] });
    expect(server.requests[1]!.body).not.toHaveProperty("tool_choice");
    expect(without.status === "ok" && without.completion.toolCalls).toEqual([]);
  });

  it("never sends content null back after a tool call", async () => {
    server = await startScriptedModelServer(() => ({ reply: { content: "next" } }), { shape: "llama.cpp" });
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m", ...fast });
    const result = await client.complete({
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: null, toolCalls: [{ id: "c1", name: "bash", arguments: "{}" }] },
        { role: "tool", toolCallId: "c1", content: "out" },
      ],
      tools: [bash],
    });
    expect(result.status).toBe("ok");
    expect(server.requests[0]!.body.messages[1].content).toBe("");
    expect(server.requests).toHaveLength(1);
  });

  it("does not retry a 5xx that says the request is invalid, and passes its whole detail on one line", async () => {
    const detail = `7 validation errors for ChatCompletionRequest\n${"messages.1.content\n  Input should be a valid string\n".repeat(12)}last field`;
    server = await startScriptedModelServer(() => ({ error: { status: 500, message: detail } }));
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m", ...fast });
    const failure = await client
      .complete({ messages: [{ role: "user", content: "hi" }] })
      .catch((error) => error);
    expect(failure).toBeInstanceOf(InfrastructureError);
    expect(server.requests).toHaveLength(1);
    expect(failure.message).not.toContain("\n");
    expect(failure.message).toContain("HTTP 500: 7 validation errors");
    expect(failure.message).toContain("last field");
    expect(failure.message).not.toContain("is the server up");
  });

  it("reads no token ids and records none, and the probe says so before any episode", async () => {
    server = await startScriptedModelServer(() => ({ reply: { content: "plain" } }), { shape: "llama.cpp" });
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m" });
    const result = await client.complete({ messages: [{ role: "user", content: "hi" }] });
    expect(result.status === "ok" && result.completion.tokens).toBeNull();
    const capabilities = await client.probe!();
    expect(capabilities.listedModels).toEqual(["scripted"]);
    expect(capabilities.tokenIds).toMatchObject({ supported: false, detail: "no prompt_token_ids" });
    expect(capabilities.logprobs.supported).toBe(false);
    expect(capabilities.nativeToolCalls).toMatchObject({ supported: true });
    expect(server.probes).toHaveLength(4);
    expect(server.requests).toHaveLength(1);

    const omitting = createModelClient({ baseUrl: server.baseUrl, model: "m", toolChoice: "omit" });
    expect((await omitting.probe!()).nativeToolCalls).toEqual({
      supported: false,
      detail: "answered with text instead of tool_calls",
    });
  });

  it("asks again with the tool forced when the server answers auto with the bare text functions.NAME:", async () => {
    server = await startScriptedModelServer(
      () => ({ reply: { viaMessage: true, toolCalls: [{ name: "bash", arguments: { command: "ls" } }] } }),
      { shape: "llama.cpp" },
    );
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m" });
    const result = await client.complete({ messages: [{ role: "user", content: "hi" }], tools: [bash] });
    expect(server.requests.map((request) => request.body.tool_choice)).toEqual([
      "auto",
      { type: "function", function: { name: "bash" } },
    ]);
    expect(result.status === "ok" && result.completion.toolCalls).toEqual([
      { id: "call_1_0", name: "bash", arguments: '{"command":"ls"}' },
    ]);

    // A name that is not an offered tool is plain text; with `omit` nothing is forced.
    const other = await client.complete({ messages: [{ role: "user", content: "hi" }], tools: [] });
    expect(other.status === "ok" && other.completion.content).toBe("functions.bash:");
    const omitting = createModelClient({ baseUrl: server.baseUrl, model: "m", toolChoice: "omit" });
    await omitting.complete({ messages: [{ role: "user", content: "hi" }], tools: [bash] });
    expect(server.requests).toHaveLength(4);
  });

  it("finds that tool results never reach the prompt, and from then on sends them as user messages", async () => {
    server = await startScriptedModelServer(() => ({ reply: { content: "next" } }), { shape: "llama.cpp" });
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m" });
    const conversation: ChatMessage[] = [
      { role: "user", content: "hi" },
      {
        role: "assistant",
        content: null,
        toolCalls: [
          { id: "c1", name: "bash", arguments: '{"command":"ls"}' },
          { id: "c2", name: "editor", arguments: "{}" },
        ],
      },
      { role: "tool", toolCallId: "c1", content: "README.md setup.py" },
      { role: "tool", toolCallId: "c2", content: "edited" },
    ];
    await client.complete({ messages: conversation, tools: [bash] });
    // As the server renders it, the model never saw what its tools did.
    expect(server.requests[0]!.promptText).not.toContain("README.md setup.py");

    const capabilities = await client.probe!();
    expect(capabilities.toolResults.supported).toBe(false);
    expect(capabilities.toolResults.detail).toMatch(
      /leaves role "tool" messages out of the prompt .*; sending them as user messages instead/,
    );
    await client.complete({ messages: conversation, tools: [bash] });
    const sent = server.requests[1]!;
    expect(sent.body.messages.map((message: { role: string }) => message.role)).toEqual([
      "user",
      "assistant",
      "user",
    ]);
    expect(sent.body.messages[2].content).toBe(
      "Output of bash (call c1):\nREADME.md setup.py\n\nOutput of editor (call c2):\nedited",
    );
    expect(sent.promptText).toContain("README.md setup.py");
  });

  it("probes a vLLM-shaped server as having token ids, logprobs, native tool calls and tool results", async () => {
    server = await startScriptedModelServer(() => ({ reply: { content: "next" } }));
    const client = createModelClient({ baseUrl: server.baseUrl, model: "m" });
    const capabilities = await client.probe!();
    expect(capabilities.tokenIds.supported).toBe(true);
    expect(capabilities.logprobs.supported).toBe(true);
    expect(capabilities.nativeToolCalls.supported).toBe(true);
    expect(capabilities.toolResults).toMatchObject({ supported: true });
    expect(server.probes[0]).toMatchObject({ max_tokens: 1, return_token_ids: true, logprobs: true });
    await client.complete({
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: null, toolCalls: [{ id: "c1", name: "bash", arguments: "{}" }] },
        { role: "tool", toolCallId: "c1", content: "out" },
      ],
    });
    expect(server.requests[0]!.body.messages[2]).toEqual({
      role: "tool",
      tool_call_id: "c1",
      content: "out",
    });
  });
});
