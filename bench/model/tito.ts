// Benchmark of the token-in/token-out client against a real vLLM (scripts/prepare-vllm.sh prepares it):
// 1. per-turn client overhead, TITO vs chat, on the same server and the same conversation: each call's time
//    minus a bare replay of its exact token prompt (same length of output), so what is left is rendering,
//    tokenizing and HTTP on either side;
// 2. the share of a real solver episode's wall time spent outside the model and the sandbox;
// 3. prefix breaks: the same solver episode through the chat client (native tool calls), whose every turn
//    the server renders again from the messages, beside the token-in/token-out episode's.
// Usage: npx tsx bench/model/tito.ts [--turns 4] [--json]
import { performance } from "node:perf_hooks";
import { createAgentPolicy } from "../../src/agent/index.js";
import { createModelClient, createTitoClient } from "../../src/model/index.js";
import type { ChatMessage, CompletionRequest, CompletionResult, ModelClient } from "../../src/ports/model.js";
import { openSandboxes } from "../../src/sandbox/index.js";
import { pythonFixtureArtifact } from "../../test/support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import { type SolveTaskOptions, solveTask } from "../../test/support/solve-task.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { findVllm, startVllm, type VllmServer } from "../../test/support/vllm-server.js";

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}
const turns = flag("turns", 4);
const json = process.argv.includes("--json");

interface Call {
  ms: number;
  prompt: number[];
  sampled: number;
}

/** Records every call's time and exact token prompt; episodes get recorded clients of their own. */
function recorded(client: ModelClient, calls: Call[]): ModelClient {
  return {
    sampling: client.sampling,
    tokenSource: client.tokenSource,
    ...(client.startEpisode ? { startEpisode: () => recorded(client.startEpisode!(), calls) } : {}),
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      const started = performance.now();
      const result = await client.complete(request);
      const ms = performance.now() - started;
      if (result.status === "ok" && result.completion.tokens)
        calls.push({
          ms,
          prompt: result.completion.tokens.promptTokenIds,
          sampled: result.completion.tokens.completionTokenIds.length,
        });
      return result;
    },
  };
}

/**
 * The model's own time for a call: the same token prompt, the same number of output tokens, nothing else.
 * The server runs without prefix caching, so the replay pays the whole prefill as the original call did.
 */
async function bareMs(vllm: VllmServer, call: Call): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let repeat = 0; repeat < 2; repeat++) {
    const started = performance.now();
    const response = await fetch(`${vllm.baseUrl}/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: vllm.model,
        prompt: call.prompt,
        max_tokens: Math.max(1, call.sampled),
        min_tokens: Math.max(1, call.sampled),
        ignore_eos: true,
        temperature: 0,
      }),
    });
    await response.text();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

async function overheads(vllm: VllmServer, calls: Call[]): Promise<number[]> {
  const result: number[] = [];
  for (const call of calls) result.push(call.ms - (await bareMs(vllm, call)));
  return result;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
};

/** A fixed conversation of `turns` calls with short answers, sent through `client`. */
async function conversation(client: ModelClient): Promise<void> {
  const episode = client.startEpisode?.() ?? client;
  const messages: ChatMessage[] = [
    { role: "system", content: "You are a terse assistant. Answer in at most five words." },
    { role: "user", content: "List the files." },
  ];
  const tools = [
    {
      name: "bash",
      description: "Run a command.",
      parameters: { type: "object", properties: { command: { type: "string" } } },
    },
  ];
  for (let turn = 0; turn < turns; turn++) {
    const result = await episode.complete({ messages, tools, maxTokens: 8 });
    if (result.status !== "ok") throw new Error(`turn ${turn}: ${result.status}`);
    messages.push(
      { role: "assistant", content: result.completion.content ?? "" },
      { role: "user", content: `Observation ${turn}: ${"line of output\n".repeat(20)}` },
    );
  }
}

/** One solver episode on the fixture artifact through `client`, in `callFormat`. */
function solveWith(
  client: ModelClient,
  callFormat: "hermes" | "native",
  options: Omit<SolveTaskOptions, "artifact" | "seed">,
  seed: number,
) {
  const policy = createAgentPolicy({
    client,
    modelName: "bench",
    callFormat,
    limits: { maxTurns: 3, maxContextTokens: 4096 },
  });
  return solveTask(policy, { ...options, artifact: pythonFixtureArtifact(), seed });
}

async function main(): Promise<void> {
  const installation = findVllm();
  if (typeof installation === "string") throw new Error(installation);
  // No prefix caching: a replay must not find its prompt cached when the call it is compared with did not.
  const vllm = await startVllm(installation, { acceptSeeds: true, prefixCaching: false });
  const temp = makeTempDir("bench-tito-");
  const sandboxes = openSandboxes();
  try {
    const sampling = { model: vllm.model, temperature: 0, maxTokens: 8, requestTimeoutMs: 600_000 };
    const titoCalls: Call[] = [];
    const chatCalls: Call[] = [];
    // Warm the server (first-call compilation) before anything is measured.
    await conversation(createTitoClient({ engine: "vllm", baseUrl: vllm.baseUrl, ...sampling }));
    await conversation(
      recorded(createTitoClient({ engine: "vllm", baseUrl: vllm.baseUrl, ...sampling }), titoCalls),
    );
    await conversation(recorded(createModelClient({ baseUrl: vllm.baseUrl, ...sampling }), chatCalls));
    const tito = await overheads(vllm, titoCalls);
    const chat = await overheads(vllm, chatCalls);

    // A real solver episode: wall time vs the model's own time and the sandbox's.
    const environment = { kind: "dir" as const, path: await makePythonFixtureRepo(temp.path) };
    const episodeCalls: Call[] = [];
    const client = recorded(
      createTitoClient({ engine: "vllm", baseUrl: vllm.baseUrl, model: vllm.model, maxTokens: 64 }),
      episodeCalls,
    );
    const { outcome, wallMs } = await solveWith(client, "hermes", { sandboxes, environment }, 1);
    let modelMs = 0;
    for (const call of episodeCalls) modelMs += await bareMs(vllm, call);
    const sandboxMs = outcome.episode.stats.toolMs ?? 0;
    const chatEpisode = (
      await solveWith(
        createModelClient({ baseUrl: vllm.baseUrl, model: vllm.model, maxTokens: 64 }),
        "native",
        { sandboxes, environment },
        1,
      )
    ).outcome.episode;
    const outsideMs = Math.max(0, wallMs - modelMs - sandboxMs);
    const report = {
      turns,
      titoOverheadMsPerTurn: median(tito),
      chatOverheadMsPerTurn: median(chat),
      titoOverChat: median(tito) / median(chat),
      episode: {
        turns: outcome.episode.stats.turns,
        wallMs: Math.round(wallMs),
        modelMs: Math.round(modelMs),
        sandboxMs: Math.round(sandboxMs),
        outsideShare: outsideMs / wallMs,
        prefixBreaks: outcome.episode.stats.prefixMismatches ?? 0,
        samples: outcome.episode.samples.length,
      },
      chatEpisode: {
        turns: chatEpisode.stats.turns,
        prefixBreaks: chatEpisode.stats.prefixMismatches ?? 0,
        samples: chatEpisode.samples.length,
      },
    };
    if (json) console.log(JSON.stringify(report));
    else {
      console.log(
        `per-turn client overhead (median of ${turns} turns, call minus bare replay of its tokens):`,
      );
      console.log(
        `  tito ${report.titoOverheadMsPerTurn.toFixed(1)} ms, chat ${report.chatOverheadMsPerTurn.toFixed(1)} ms, tito/chat ${report.titoOverChat.toFixed(2)}`,
      );
      console.log(
        `solver episode: ${report.episode.turns} turns, wall ${report.episode.wallMs} ms, model ${report.episode.modelMs} ms, ` +
          `sandbox ${report.episode.sandboxMs} ms; outside model and sandbox ${(report.episode.outsideShare * 100).toFixed(1)} % (goal <= 5 %)`,
      );
      console.log(
        `prefix breaks: tito ${report.episode.prefixBreaks} in ${report.episode.turns} turns (${report.episode.samples} sample), ` +
          `chat ${report.chatEpisode.prefixBreaks} in ${report.chatEpisode.turns} turns (${report.chatEpisode.samples} samples)`,
      );
    }
  } finally {
    await sandboxes.close();
    await vllm.stop();
    temp.remove();
  }
}

await main();
