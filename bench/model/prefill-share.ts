// Where a real solver episode's model time goes on this CPU: prefill (prompt tokens) against decode
// (generated tokens), from vLLM's own Prometheus counters and histograms (/metrics), read before and after
// a few solver episodes of the small model on the Python fixture bug (token-in/token-out, hermes calls,
// a 4096-token context, as the training runs use it). Prompt tokens the prefix cache served are counted
// apart: they cost no prefill.
// Usage: npx tsx bench/model/prefill-share.ts [--episodes 2] [--turns 4] [--max-tokens 256] [--json]
import { performance } from "node:perf_hooks";
import { createAgentPolicy } from "../../src/agent/index.js";
import { createTitoClient } from "../../src/model/index.js";
import { openSandboxes } from "../../src/sandbox/index.js";
import { pythonFixtureArtifact } from "../../test/support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import { solveTask } from "../../test/support/solve-task.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { findVllm, startVllm } from "../../test/support/vllm-server.js";
import { positiveOption } from "../support/options.js";

const argv = process.argv.slice(2);
const episodes = positiveOption(argv, "--episodes", 2);
const turns = positiveOption(argv, "--turns", 4);
const maxTokens = positiveOption(argv, "--max-tokens", 256);
const json = argv.includes("--json");

const METRICS = {
  prefillSeconds: "vllm:request_prefill_time_seconds_sum",
  decodeSeconds: "vllm:request_decode_time_seconds_sum",
  promptTokens: "vllm:prompt_tokens_total",
  generatedTokens: "vllm:generation_tokens_total",
  cacheHits: "vllm:prefix_cache_hits_total",
  cacheQueries: "vllm:prefix_cache_queries_total",
  requests: "vllm:request_success_total",
} as const;
type Figures = Record<keyof typeof METRICS, number>;

/** The counters summed over their label sets (a missing one reads 0). */
async function scrape(rootUrl: string): Promise<Figures> {
  const text = await (await fetch(`${rootUrl}/metrics`)).text();
  const figures = Object.fromEntries(Object.keys(METRICS).map((key) => [key, 0])) as Figures;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([\w:]+)(\{[^}]*\})?\s+([-+\d.eE]+|NaN)$/.exec(line.trim());
    if (!match) continue;
    for (const [key, name] of Object.entries(METRICS))
      if (match[1] === name) figures[key as keyof Figures] += Number(match[3]);
  }
  return figures;
}

const installation = findVllm();
if (typeof installation === "string") throw new Error(installation);
process.stderr.write("starting vLLM (waits for another user's vLLM to stop first)\n");
const vllm = await startVllm(installation, { acceptSeeds: true });
const temp = makeTempDir("bench-prefill-");
const sandboxes = openSandboxes();
try {
  const environment = { kind: "dir" as const, path: await makePythonFixtureRepo(temp.path) };
  const client = createTitoClient({ engine: "vllm", baseUrl: vllm.baseUrl, model: vllm.model, maxTokens });
  const policy = createAgentPolicy({
    client,
    modelName: vllm.model,
    callFormat: "hermes",
    limits: { maxTurns: turns, maxContextTokens: 4096 },
  });
  // One short request first: the first call after start pays for compilation, not for its tokens.
  await fetch(`${vllm.baseUrl}/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: vllm.model, prompt: "def f():", max_tokens: 4 }),
  });
  const before = await scrape(vllm.rootUrl);
  let wallMs = 0;
  let episodeTurns = 0;
  for (let seed = 0; seed < episodes; seed++) {
    const started = performance.now();
    const { outcome } = await solveTask(policy, {
      sandboxes,
      environment,
      artifact: pythonFixtureArtifact(),
      seed,
    });
    wallMs += performance.now() - started;
    episodeTurns += outcome.episode.stats.turns ?? 0;
  }
  const after = await scrape(vllm.rootUrl);
  const delta = Object.fromEntries(
    Object.keys(METRICS).map((key) => [key, after[key as keyof Figures] - before[key as keyof Figures]]),
  ) as Figures;
  const modelSeconds = delta.prefillSeconds + delta.decodeSeconds;
  const report = {
    episodes,
    turns: episodeTurns,
    requests: delta.requests,
    promptTokens: delta.promptTokens,
    cachedPromptTokens: delta.cacheHits,
    generatedTokens: delta.generatedTokens,
    prefillSeconds: delta.prefillSeconds,
    decodeSeconds: delta.decodeSeconds,
    prefillShareOfModelTime: modelSeconds > 0 ? delta.prefillSeconds / modelSeconds : null,
    modelShareOfWall: wallMs > 0 ? modelSeconds / (wallMs / 1000) : null,
    wallSeconds: wallMs / 1000,
  };
  if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    const percent = (value: number | null) => (value === null ? "n/a" : `${(value * 100).toFixed(1)}%`);
    process.stdout.write(
      [
        `${episodes} solver episode(s), ${episodeTurns} turns, ${report.requests} requests, wall ${report.wallSeconds.toFixed(1)} s`,
        `prompt tokens ${report.promptTokens} (prefix cache served ${report.cachedPromptTokens}), generated ${report.generatedTokens}`,
        `prefill ${report.prefillSeconds.toFixed(1)} s, decode ${report.decodeSeconds.toFixed(1)} s: prefill share of model time ${percent(report.prefillShareOfModelTime)}; model share of wall ${percent(report.modelShareOfWall)}`,
        "",
      ].join("\n"),
    );
  }
} finally {
  await sandboxes.close();
  await vllm.stop();
  temp.remove();
}
