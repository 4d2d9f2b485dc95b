import { afterEach, describe, expect, it } from "vitest";
import {
  END_OF_TURN,
  encodeText,
  renderChat,
  type ScriptedTitoServer,
  sampledLogprob,
  startScriptedTitoServer,
  type TitoStep,
} from "../../../test/support/scripted-tito-server.js";
import { InfrastructureError } from "../../errors.js";
import type { ChatMessage, CompletionResult, ModelClient } from "../../ports/model.js";
import { RolloutAccumulator, rolloutInvariantViolations } from "../../rollout/rollout-record.js";
import { toWireMessage } from "../wire.js";
import type { EngineKind } from "./engines.js";
import { createTitoClient } from "./tito-client.js";

let server: ScriptedTitoServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const fast = { retryBaseDelayMs: 5, retryMaxDelayMs: 20 };
const tools = [{ name: "bash", description: "run a command", parameters: { type: "object" } }];
const head: ChatMessage[] = [
  { role: "system", content: "You fix bugs." },
  { role: "user", content: "Fix it." },
];

function clientFor(engine: EngineKind, running: ScriptedTitoServer, extra: object = {}): ModelClient {
  return createTitoClient({
    engine,
    baseUrl: engine === "vllm" ? running.baseUrl : running.rootUrl,
    model: "policy-a",
    maxTokens: 64,
    ...fast,
    ...extra,
  });
}

function ok(result: CompletionResult) {
  if (result.status !== "ok")
    throw new Error(`expected a completion, got ${result.status}: ${result.message}`);
  return result.completion;
}

/** Three turns: two tool observations (one turn cut at the token cap), as the agent loop would send them. */
async function threeTurns(client: ModelClient) {
  const episode = client.startEpisode!();
  const accumulator = new RolloutAccumulator();
  const messages: ChatMessage[] = [...head];
  const first = ok(await episode.complete({ messages, tools, contextLimit: 10_000 }));
  accumulator.add(0, first.tokens);
  messages.push(
    { role: "assistant", content: first.content },
    { role: "tool", toolCallId: "a", content: "out 1" },
  );
  const second = ok(await episode.complete({ messages, tools, contextLimit: 10_000 }));
  accumulator.add(1, second.tokens);
  messages.push(
    { role: "assistant", content: second.content },
    { role: "user", content: "Your reply was cut off." },
  );
  const third = ok(await episode.complete({ messages, tools, contextLimit: 10_000 }));
  accumulator.add(2, third.tokens);
  return { accumulator, messages, turns: [first, second, third] };
}

describe.each(["vllm", "sglang"] as const)("createTitoClient (%s)", (engine) => {
  const replies: TitoStep[] = [
    { reply: '<tool_call>{"name": "bash"}</tool_call>' },
    { reply: "a reply cut at the cap", finishReason: "length" },
    { reply: "done" },
  ];

  it("extends one token list: the template renders once, observations are appended, sampled tokens stay", async () => {
    server = await startScriptedTitoServer((request) => replies[request.index]!);
    const { accumulator, messages, turns } = await threeTurns(clientFor(engine, server));

    const prompts = server.requests.map((request) => request.promptTokenIds);
    expect(prompts[0]).toEqual(
      encodeText(
        renderChat(
          head.map(toWireMessage),
          tools.map((t) => ({ type: "function", function: t })),
          true,
        ),
      ),
    );
    // Each prompt is the previous prompt, the tokens sampled for it, then the observation.
    expect(prompts[1]!.slice(0, prompts[0]!.length + turns[0]!.tokens!.completionTokenIds.length)).toEqual([
      ...prompts[0]!,
      ...turns[0]!.tokens!.completionTokenIds,
    ]);
    expect(prompts[2]!.slice(0, prompts[1]!.length)).toEqual(prompts[1]);
    // The turn cut at the cap did not sample the end of turn: the template's closing is appended, unmasked.
    expect(turns[1]!.tokens!.completionTokenIds.at(-1)).not.toBe(END_OF_TURN);
    // And the whole equals the server's own rendering of the conversation.
    const wire = [...messages.map(toWireMessage)];
    expect(prompts[2]).toEqual(
      encodeText(
        renderChat(
          wire,
          tools.map((t) => ({ type: "function", function: t })),
          true,
        ),
      ),
    );
    expect(server.requests[0]!.body).toMatchObject(
      engine === "vllm"
        ? {
            model: "policy-a",
            max_tokens: 64,
            logprobs: 0,
            return_token_ids: true,
            stop_token_ids: [END_OF_TURN],
          }
        : { return_logprob: true, sampling_params: { max_new_tokens: 64, stop_token_ids: [END_OF_TURN] } },
    );

    const samples = accumulator.samples({
      episodeId: "e",
      groupId: "g",
      role: "solver",
      policyVersion: "v",
      sampling: { model: "policy-a", temperature: 1, top_p: 0.95 },
      status: "completed",
    });
    expect(samples).toHaveLength(1);
    expect(accumulator.prefixMismatches).toBe(0);
    const [sample] = samples;
    expect(rolloutInvariantViolations(sample!)).toEqual([]);
    const last = turns[2]!.tokens!;
    expect(sample!.tokens).toEqual([...last.promptTokenIds, ...last.completionTokenIds]);
    // loss_mask is 1 exactly on the sampled tokens, with the server's logprobs there.
    const sampledPositions = new Set<number>();
    for (const turn of turns) {
      const start = turn.tokens!.promptTokenIds.length;
      turn.tokens!.completionTokenIds.forEach((token, index) => {
        sampledPositions.add(start + index);
        expect(sample!.logprobs[start + index]).toBeCloseTo(sampledLogprob(token, start + index), 12);
      });
    }
    expect(sample!.loss_mask).toEqual(
      sample!.tokens.map((_, index) => (sampledPositions.has(index) ? 1 : 0)),
    );
    expect(sample!.meta.turn_models).toEqual(["policy-a", "policy-a", "policy-a"]);
    expect(turns[0]!.usage).toEqual({
      promptTokens: prompts[0]!.length,
      completionTokens: turns[0]!.tokens!.completionTokenIds.length,
    });
  });

  it("sends top-k, min-p and the request's seed in the engine's fields; no seed when seeds are off", async () => {
    server = await startScriptedTitoServer(() => ({ reply: "done" }));
    const messages: ChatMessage[] = [...head];
    const seeded = clientFor(engine, server, { topK: 20, minP: 0.05 }).startEpisode!();
    ok(await seeded.complete({ messages, tools, seed: 5 }));
    const unseeded = clientFor(engine, server, { sendSeeds: false }).startEpisode!();
    ok(await unseeded.complete({ messages, tools, seed: 5 }));
    const [first, second] = server.requests.slice(-2).map((request) => request.body);
    if (engine === "vllm") {
      expect(first).toMatchObject({ top_k: 20, min_p: 0.05, seed: 5 });
      expect(second).not.toHaveProperty("seed");
    } else {
      expect(first!.sampling_params).toMatchObject({ top_k: 20, min_p: 0.05, sampling_seed: 5 });
      expect(second!.sampling_params).not.toHaveProperty("sampling_seed");
    }
    expect(clientFor(engine, server, { topK: 20, minP: 0.05 }).sampling).toMatchObject({
      top_k: 20,
      min_p: 0.05,
    });
    expect(clientFor(engine, server, { sendSeeds: false }).sampling.seeds).toBe(false);
  });

  it("keeps the episode whole across a server restart mid-episode", async () => {
    server = await startScriptedTitoServer(() => ({ reply: "ok" }));
    const running = server;
    const patient = { retryBaseDelayMs: 50, retryMaxDelayMs: 200, maxRetries: 10 };
    const episode = clientFor(engine, running, patient).startEpisode!();
    const messages: ChatMessage[] = [...head];
    const first = ok(await episode.complete({ messages }));
    messages.push(
      { role: "assistant", content: first.content },
      { role: "tool", toolCallId: "a", content: "x" },
    );
    const restarted = running.restart(300);
    const second = ok(await episode.complete({ messages }));
    await restarted;
    expect(second.tokens!.promptTokenIds.slice(0, first.tokens!.promptTokenIds.length)).toEqual(
      first.tokens!.promptTokenIds,
    );
  });

  it("retries a reply cut short, and says so when every reply is", async () => {
    let calls = 0;
    server = await startScriptedTitoServer(() => (calls++ === 0 ? { truncated: true } : { reply: "ok" }));
    expect(ok(await clientFor(engine, server).complete({ messages: head })).content).toBe("ok");
    await server.close();

    server = await startScriptedTitoServer(() => ({ truncated: true }));
    const error = await clientFor(engine, server, { maxRetries: 2 })
      .complete({ messages: head })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).code).toBe("model-bad-response");
    expect(server.requests).toHaveLength(3);
  });

  it("refuses a reply without token ids instead of leaving a gap", async () => {
    server = await startScriptedTitoServer(() => ({ withoutTokenIds: true }));
    const error = await clientFor(engine, server)
      .complete({ messages: head })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).code).toBe("model-bad-response");
    expect((error as Error).message).toMatch(engine === "vllm" ? /token_ids/ : /output_token_logprobs/);
  });

  it("counts the context in real tokens: over the limit is a context overflow, before and at the server", async () => {
    server = await startScriptedTitoServer(() => ({ reply: "ok" }), { maxModelLength: 60 });
    const client = clientFor(engine, server);
    const local = await client.complete({ messages: head, contextLimit: 10 });
    expect(local.status).toBe("context-overflow");
    expect(server.requests).toHaveLength(0);
    // The server's own length (60) caps max_tokens to what is left of it.
    const capped = ok(await client.complete({ messages: head }));
    const request = server.requests[0]!;
    const asked = engine === "vllm" ? request.body.max_tokens : request.body.sampling_params.max_new_tokens;
    expect(asked).toBe(60 - capped.tokens!.promptTokenIds.length);
  });
});

describe("createTitoClient timeouts", () => {
  it("waits for headers as long as the configured timeout, however short the HTTP client's default", async () => {
    const { Agent, getGlobalDispatcher, setGlobalDispatcher } = await import("undici");
    const previous = getGlobalDispatcher();
    setGlobalDispatcher(new Agent({ headersTimeout: 200, bodyTimeout: 200 }));
    try {
      let calls = 0;
      server = await startScriptedTitoServer(() =>
        calls++ === 0 ? { delayHeadersMs: 800, reply: "slow" } : { reply: "fast" },
      );
      const client = clientFor("vllm", server, { requestTimeoutMs: 5_000, maxRetries: 0 });
      expect(ok(await client.complete({ messages: head })).content).toBe("slow");
    } finally {
      setGlobalDispatcher(previous);
    }
  });

  it("gives up at the configured timeout", async () => {
    server = await startScriptedTitoServer(() => ({ delayHeadersMs: 2_000, reply: "late" }));
    const started = performance.now();
    const error = await clientFor("vllm", server, { requestTimeoutMs: 300, maxRetries: 0 })
      .complete({ messages: head })
      .catch((caught: unknown) => caught);
    expect((error as InfrastructureError).code).toBe("model-unreachable");
    expect((error as Error).message).toMatch(/no answer within 300 ms/);
    expect(performance.now() - started).toBeLessThan(1_800);
  });
});
