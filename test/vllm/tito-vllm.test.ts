// Token-in/token-out on a real engine: vLLM's CPU build serving Qwen2.5-Coder-0.5B-Instruct (prepared by
// scripts/prepare-vllm.sh). Solver and proposer episodes on the example library are stored as one sample
// each, which the server re-scores to the stored logprobs; the chat client runs beside it for its prefix
// breaks; the SGLang protocol runs through an SGLang-shaped front on the same model. The episodes' SFT token
// lines come from the server's /tokenize and match transformers' apply_chat_template of the model directory.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentPolicy } from "../../src/agent/policy.js";
import { createServerTokenizer } from "../../src/model/tito/server-tokenizer.js";
import { createTitoClient, type TitoClientOptions } from "../../src/model/tito/tito-client.js";
import type { ChatMessage, ModelClient } from "../../src/ports/model.js";
import type { PolicyEpisode } from "../../src/ports/policy.js";
import type { RolloutSample } from "../../src/ports/rollout.js";
import { type Environment, type SandboxBackend, viewOf } from "../../src/ports/sandbox.js";
import { rolloutInvariantViolations } from "../../src/rollout/rollout-record.js";
import { openSandboxes } from "../../src/sandbox/index.js";
import { IGNORED_LABEL, SftTokenizer, sftLine } from "../../src/selfplay/index.js";
import { createValidator, type Validator } from "../../src/validation/index.js";
import { projectRoot, runProgram } from "../support/cli.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { type SglangFront, startSglangFront } from "../support/sglang-front.js";
import { solveTask } from "../support/solve-task.js";
import { makeTempDir } from "../support/tmp.js";
import { findTrainerPython } from "../support/trainer-python.js";
import { findVllm, startVllm, type VllmServer, vllmRequired } from "../support/vllm-server.js";

const installation = findVllm();
if (typeof installation === "string") {
  if (vllmRequired) throw new Error(`CI=true or REQUIRE_VLLM=1, but ${installation}`);
  process.stderr.write(`skipped, why: ${installation} (set REQUIRE_VLLM=1 to make this fail)\n`);
}

const EPISODE_MS = 900_000;

const limits = { maxTurns: 2, maxContextTokens: 4096 };
const temp = makeTempDir("tito-vllm-");
let vllm: VllmServer;
let sandboxes: SandboxBackend;
let environment: Environment;
let validator: Validator;
let front: SglangFront | undefined;
const artifact = pythonFixtureArtifact();

describe.skipIf(typeof installation === "string")("token-in/token-out on a real vLLM", () => {
  beforeAll(async () => {
    if (typeof installation === "string") return;
    [vllm] = await Promise.all([
      // Seeded requests, as the clients send them (chunked prefill off: see VllmOptions.acceptSeeds).
      startVllm(installation, { acceptSeeds: true }),
      makePythonFixtureRepo(temp.path).then((path) => {
        environment = { kind: "dir", path };
      }),
    ]);
    sandboxes = openSandboxes();
    validator = createValidator({ sandboxes });
  }, 3_000_000);

  afterAll(async () => {
    await front?.close();
    await vllm?.stop();
    await sandboxes?.close();
    temp.remove();
  }, 60_000);

  const titoOptions = (extra: Partial<TitoClientOptions> = {}): TitoClientOptions => ({
    engine: "vllm",
    baseUrl: vllm.baseUrl,
    model: vllm.model,
    maxTokens: 64,
    requestTimeoutMs: 600_000,
    ...extra,
  });

  async function solve(
    client: ModelClient,
    callFormat: "hermes" | "native" = "hermes",
  ): Promise<PolicyEpisode> {
    const policy = createAgentPolicy({
      client,
      modelName: vllm.model,
      callFormat,
      limits,
    });
    return (await solveTask(policy, { sandboxes, environment, artifact, seed: 11 })).outcome.episode;
  }

  /** The server's own logprob of every sampled token when it scores the stored tokens as a prompt. */
  async function rescore(sample: RolloutSample): Promise<{ maxDifference: number; compared: number }> {
    const response = await fetch(`${vllm.baseUrl}/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: vllm.model, prompt: sample.tokens, max_tokens: 1, prompt_logprobs: 0 }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      choices: { prompt_logprobs: (Record<string, { logprob: number }> | null)[] }[];
    };
    const scored = body.choices[0]!.prompt_logprobs;
    expect(scored).toHaveLength(sample.tokens.length);
    let maxDifference = 0;
    let compared = 0;
    sample.loss_mask.forEach((mask, index) => {
      if (mask !== 1) return;
      const entry = scored[index]?.[String(sample.tokens[index])];
      expect(entry, `no prompt logprob for token ${sample.tokens[index]} at ${index}`).toBeDefined();
      maxDifference = Math.max(maxDifference, Math.abs(entry!.logprob - sample.logprobs[index]!));
      compared++;
    });
    return { maxDifference, compared };
  }

  async function expectOneExactSample(episode: PolicyEpisode, model: string) {
    expect(episode.stats.prefixMismatches).toBe(0);
    expect(episode.stats.turnsWithoutTokens).toBe(0);
    expect(episode.samples).toHaveLength(1);
    const sample = episode.samples[0]!;
    expect(rolloutInvariantViolations(sample)).toEqual([]);
    expect(sample.meta).toMatchObject({
      token_source: "tito",
      call_format: "hermes",
      start_reason: "first-turn",
    });
    const steps = episode.trajectory.filter(
      (entry) => typeof entry === "object" && entry !== null && "turn" in entry,
    ) as unknown as { content: string | null }[];
    expect(sample.meta.turn_models).toEqual(steps.map(() => model));
    const sampled = sample.loss_mask.reduce((sum, mask) => sum + mask, 0);
    expect(sampled).toBeGreaterThan(0);
    // The tokens decode to the transcript: every turn's text, in order.
    const tokenizer = createServerTokenizer({
      baseUrl: vllm.rootUrl,
      model: vllm.model,
      timeoutMs: 60_000,
      retry: { maxRetries: 2, baseDelayMs: 200, maxDelayMs: 1000 },
    });
    const decoded = await tokenizer.decode(sample.tokens);
    let from = 0;
    for (const step of steps) {
      const at = decoded.indexOf(step.content ?? "", from);
      expect(
        at,
        `turn text not found in order: ${JSON.stringify(step.content?.slice(0, 80))}`,
      ).toBeGreaterThanOrEqual(0);
      from = at + (step.content ?? "").length;
    }
    const { maxDifference, compared } = await rescore(sample);
    process.stderr.write(
      `[tito-vllm] ${episode.role}: ${steps.length} turns, ${sample.tokens.length} tokens, ${compared} sampled; ` +
        `re-scored max |Δlogprob| ${maxDifference.toFixed(4)}\n`,
    );
    expect(maxDifference).toBeLessThan(1e-2);
    return sample;
  }

  it("renders observations exactly as the server's own chat template does", async () => {
    const tokenizer = createServerTokenizer({
      baseUrl: vllm.rootUrl,
      model: vllm.model,
      timeoutMs: 60_000,
      retry: { maxRetries: 2, baseDelayMs: 200, maxDelayMs: 1000 },
    });
    const tools = [
      {
        name: "bash",
        description: "Run a command.",
        parameters: { type: "object", properties: { command: { type: "string" } } },
      },
    ];
    const reply = '<tool_call>\n{"name": "bash", "arguments": {"command": "ls"}}\n</tool_call>';
    const endOfTurn = await tokenizer.encode("<|im_end|>");
    expect(endOfTurn).toHaveLength(1);
    const replies = [
      { tokenIds: [...(await tokenizer.encode(reply)), ...endOfTurn], text: reply },
      { tokenIds: [...(await tokenizer.encode("Done.")), ...endOfTurn], text: "Done." },
    ];
    front = await startSglangFront(vllm.baseUrl, vllm.model, (index) => replies[index]);
    const episode = createTitoClient(
      titoOptions({ engine: "sglang", baseUrl: front.rootUrl, tokenizerUrl: vllm.rootUrl }),
    ).startEpisode!();
    const messages: ChatMessage[] = [
      { role: "system", content: "You repair bugs." },
      { role: "user", content: "Tests fail in wrap.py." },
    ];
    await episode.complete({ messages, tools });
    messages.push(
      { role: "assistant", content: reply },
      { role: "tool", toolCallId: "call_0", content: "README.md\ninkwell\ntests" },
    );
    await episode.complete({ messages, tools });
    expect(front.prompts[0]).toEqual(
      await tokenizer.renderChat({ messages: messages.slice(0, 2), tools, addGenerationPrompt: true }),
    );
    expect(front.prompts[1]).toEqual(
      await tokenizer.renderChat({ messages, tools, addGenerationPrompt: true }),
    );
    await front.close();
    front = undefined;
  });

  let titoSolver: PolicyEpisode;
  let chatSolver: PolicyEpisode | undefined;
  it(
    "stores a multi-turn solver episode as one sample the server re-scores to its logprobs",
    async () => {
      titoSolver = await solve(createTitoClient(titoOptions()));
      expect(titoSolver.stats.turns).toBeGreaterThanOrEqual(2);
      await expectOneExactSample(titoSolver, vllm.model);
    },
    EPISODE_MS,
  );

  it(
    "stores a proposer episode as one exact sample",
    async () => {
      const policy = createAgentPolicy({
        client: createTitoClient(titoOptions()),
        modelName: vllm.model,
        callFormat: "hermes",
        limits: { ...limits, maxTurns: 2 },
      });
      const sandbox = await sandboxes.create({ environment, label: "tito-propose" });
      try {
        const outcome = await policy.propose({
          sandbox: viewOf(sandbox),
          environmentName: "inkwell",
          strategy: "removal",
          seed: 5,
          thresholds: validator.thresholds,
          validate: (candidate) => validator.validate(environment, candidate),
        });
        await expectOneExactSample(outcome.episode, vllm.model);
      } finally {
        await sandbox.destroy();
      }
    },
    EPISODE_MS,
  );

  it(
    "runs the chat client (server-parsed native calls) on the same server and counts its prefix breaks",
    async () => {
      const { createModelClient } = await import("../../src/model/openai-client.js");
      const chat = await solve(
        createModelClient({
          baseUrl: vllm.baseUrl,
          model: vllm.model,
          maxTokens: 64,
          requestTimeoutMs: 600_000,
        }),
        "native",
      );
      chatSolver = chat;
      for (const sample of chat.samples) expect(rolloutInvariantViolations(sample)).toEqual([]);
      expect(chat.samples[0]!.meta.token_source).toBe("chat");
      expect(chat.samples).toHaveLength(1 + chat.stats.prefixMismatches! + chat.stats.turnsWithoutTokens!);
      process.stderr.write(
        `[tito-vllm] prefix breaks: chat ${chat.stats.prefixMismatches} in ${chat.stats.turns} turns ` +
          `(${chat.samples.length} samples); tito ${titoSolver?.stats.prefixMismatches ?? "n/a"} in ` +
          `${titoSolver?.stats.turns ?? "n/a"} turns (1 sample)\n`,
      );
    },
    EPISODE_MS,
  );

  it(
    "speaks SGLang's /generate with input_ids and keeps one exact sample",
    async () => {
      front = await startSglangFront(vllm.baseUrl, vllm.model);
      const episode = await solve(
        createTitoClient(
          titoOptions({
            engine: "sglang",
            baseUrl: front.rootUrl,
            tokenizerUrl: vllm.rootUrl,
            model: vllm.model,
          }),
        ),
      );
      expect(front.prompts.length).toBe(episode.stats.turns);
      await expectOneExactSample(episode, vllm.model);
    },
    EPISODE_MS,
  );

  it(
    "exports its episodes as SFT token lines that transformers' apply_chat_template renders the same",
    async () => {
      const tokenizer = createServerTokenizer({
        baseUrl: vllm.rootUrl,
        model: vllm.model,
        timeoutMs: 120_000,
        retry: { maxRetries: 2, baseDelayMs: 200, maxDelayMs: 1000 },
      });
      const episodes = [titoSolver, chatSolver].filter((episode) => episode !== undefined);
      expect(episodes.length).toBeGreaterThan(0);
      const lines = episodes.map((episode) => {
        const line = sftLine({
          episodeId: episode.id,
          runId: "tito-vllm",
          role: episode.role,
          state: "finished",
          environment: "inkwell",
          artifactId: null,
          bugKey: null,
          policy: episode.policy,
          reward: null,
          resolved: null,
          valid: null,
          conversation: episode.conversation,
        });
        if (typeof line === "string") throw new Error(line);
        return line;
      });
      const sftTokenizer = new SftTokenizer(tokenizer);
      const tokenLines = [];
      for (const [index, line] of lines.entries())
        tokenLines.push(await sftTokenizer.tokenLine(line, index + 1));
      const [endOfTurn] = await tokenizer.encode("<|im_end|>");
      for (const [index, tokens] of tokenLines.entries()) {
        expect(tokens.labels).toHaveLength(tokens.input_ids.length);
        // Every labelled stretch is one assistant turn, ending on the token sampling stops at.
        const stretchEnds = tokens.labels.flatMap((label, position) =>
          label !== IGNORED_LABEL && tokens.labels[position + 1] === IGNORED_LABEL ? [label] : [],
        );
        expect(stretchEnds.length + (tokens.labels.at(-1) === IGNORED_LABEL ? 0 : 1)).toBe(
          lines[index]!.meta.turns,
        );
        for (const end of stretchEnds) expect(end).toBe(endOfTurn);
      }
      const python = findTrainerPython();
      if (typeof python !== "string") {
        process.stderr.write(`[tito-vllm] transformers cross-check skipped, why: ${python.missing}\n`);
        return;
      }
      const sftPath = join(temp.path, "sft.jsonl");
      const tokensPath = join(temp.path, "sft-tokens.jsonl");
      writeFileSync(sftPath, lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
      writeFileSync(tokensPath, tokenLines.map((line) => `${JSON.stringify(line)}\n`).join(""));
      const checked = await runProgram(
        python,
        [
          join(projectRoot, "python/tests/sft_tokens_reference.py"),
          (installation as { model: string }).model,
          sftPath,
          tokensPath,
        ],
        { cwd: projectRoot, env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" }, timeoutMs: 600_000 },
      );
      expect(checked.code, `${checked.stdout}\n${checked.stderr}`).toBe(0);
      process.stderr.write(`[tito-vllm] sft-tokens: ${checked.stdout.trim()}\n`);
    },
    EPISODE_MS,
  );
});
