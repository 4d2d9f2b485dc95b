// `swe-selfplay export` through the real CLI on a store written through the store's own API: an empty export
// says why it is empty.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../../test/support/cli.js";
import { makeTempDir } from "../../../test/support/tmp.js";
import { openStore } from "../../store/index.js";
import type { EpisodeId, RunId } from "../../store/types.js";

const temp = makeTempDir("swe-selfplay-export-cli-");
afterAll(() => temp.remove());

/** A run of the builtin policy with one finished step: its proposer episode gave up, with no samples. */
function builtinStore(name = "store.db"): string {
  const path = join(temp.path, name);
  const store = openStore(path);
  const runId = "run-b" as RunId;
  store.createRun({ id: runId, config: {}, seed: 0 });
  store.insertStep({ runId, stepIndex: 0, environment: "inkwell", strategy: "direct", seed: 1 });
  store.startEpisode({ id: "ep-0" as EpisodeId, runId, role: "proposer", stepIndex: 0 });
  store.recordProposal({
    runId,
    stepIndex: 0,
    episodeId: "ep-0" as EpisodeId,
    episode: {
      id: "ep-0",
      role: "proposer",
      policy: { kind: "builtin", name: "builtin", version: "1" },
      status: "completed",
      exitReason: "gave-up",
      trajectory: [],
      samples: [],
      startedAt: "2026-01-01T00:00:00.000Z",
      endedAt: "2026-01-01T00:00:00.000Z",
      stats: {},
    },
    proposerGroupId: "run-b/step-0",
    artifact: null,
    failure: { reward: -1, reason: "no mutation applied" },
  });
  store.close();
  return path;
}

describe("swe-selfplay export of a run with nothing to export", () => {
  it("says why: a builtin run has no trainable samples, and no step made a valid artifact", async () => {
    const store = builtinStore();
    const rollouts = await runCli([
      "export",
      "--store",
      store,
      "--format",
      "rollouts",
      "--out",
      join(temp.path, "out"),
    ]);
    expect(rollouts.code, rollouts.stderr).toBe(0);
    expect(rollouts.stdout).toContain("(0 records)");
    expect(rollouts.stdout).toContain(
      "nothing to export: the run has no trainable samples: 0 samples from 0 of 1 episodes (1 without: the builtin policy samples no tokens); rollout records need a model policy",
    );
    const artifacts = await runCli([
      "export",
      "--store",
      store,
      "--format",
      "artifacts",
      "--out",
      join(temp.path, "out"),
      "--json",
    ]);
    expect(artifacts.code, artifacts.stderr).toBe(0);
    expect(JSON.parse(artifacts.stdout)).toMatchObject({
      count: 0,
      empty: "no step of the run made a valid artifact (1 steps: 0 invalid, 1 none submitted, 0 duplicates)",
    });
  });
});

describe("swe-selfplay export --format sft of episodes without a conversation", () => {
  it("skips builtin episodes and episodes stored before conversations were kept, counting them on stderr", async () => {
    const path = builtinStore("sft-store.db");
    const store = openStore(path);
    // A model episode as stored before episodes kept their conversation: a prompt and steps only.
    store.insertStep({
      runId: "run-b" as RunId,
      stepIndex: 1,
      environment: "inkwell",
      strategy: "direct",
      seed: 2,
    });
    store.startEpisode({ id: "ep-1" as EpisodeId, runId: "run-b" as RunId, role: "proposer", stepIndex: 1 });
    store.saveEpisodeProgress("ep-1" as EpisodeId, {
      id: "ep-1",
      role: "proposer",
      policy: { kind: "openai", name: "qwen", version: "1" },
      status: "completed",
      exitReason: "format-errors",
      trajectory: [{ kind: "prompt", messages: [] }],
      samples: [],
      startedAt: "2026-01-01T00:00:00.000Z",
      endedAt: null,
      stats: {},
    });
    store.recordProposal({
      runId: "run-b" as RunId,
      stepIndex: 1,
      episodeId: "ep-1" as EpisodeId,
      episode: {
        id: "ep-1",
        role: "proposer",
        policy: { kind: "openai", name: "qwen", version: "1" },
        status: "failed",
        exitReason: "format-errors",
        trajectory: [],
        samples: [],
        startedAt: "2026-01-01T00:00:00.000Z",
        endedAt: "2026-01-01T00:00:01.000Z",
        stats: {},
      },
      proposerGroupId: "run-b/step-1",
      artifact: null,
      failure: { reward: -1, reason: "no artifact" },
    });
    store.close();
    const out = join(temp.path, "sft-out");
    const exported = await runCli([
      "export",
      "--store",
      path,
      "--format",
      "sft",
      "--out",
      out,
      "--run",
      "all",
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain("skipped 1 episode: policy without tool calls (builtin)\n");
    expect(exported.stderr).toContain("skipped 1 episode: stored before episodes kept their conversation\n");
    expect(exported.stdout).toContain(`${join(out, "sft.jsonl")}: 0 lines`);
    expect(exported.stdout).toContain("nothing to export: no episode passed the filters");
    const tokens = await runCli(["export", "--store", path, "--format", "sft-tokens", "--out", out]);
    expect(tokens.code).toBe(2);
    expect(tokens.stderr).toContain("--format sft-tokens needs --tokenizer-url");
    const missingSet = join(out, "no-such-set.json");
    const excluded = await runCli([
      "export",
      "--store",
      path,
      "--format",
      "sft",
      "--out",
      out,
      "--exclude-set",
      missingSet,
    ]);
    expect(excluded.code).toBe(2);
    expect(excluded.stderr).toContain(`task set ${missingSet}:`);
  });
});

/** A stand-in for vLLM's POST /tokenize: one id per character, `<s>role\ncontent<e>\n` per message (ids 1000, 1001). */
async function startTokenizeServer(): Promise<{ url: string; close(): void }> {
  const codes = (text: string) => [...text].map((character) => character.codePointAt(0)!);
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const parsed = JSON.parse(body);
      const render = (message: {
        role: string;
        content: string;
        tool_calls?: { function: { name: string } }[];
      }) => [
        1000,
        ...codes(
          `${message.role}\n${message.content}${(message.tool_calls ?? []).map((call) => `<${call.function.name}>`).join("")}`,
        ),
        1001,
        ...codes("\n"),
      ];
      const tokens = parsed.messages
        ? [
            ...parsed.messages.flatMap(render),
            ...(parsed.add_generation_prompt ? [1000, ...codes("assistant\n")] : []),
          ]
        : codes(parsed.prompt);
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ tokens, count: tokens.length, max_model_len: 4096 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => server.close(),
  };
}

describe("swe-selfplay export --format sft-tokens", () => {
  it("renders the chosen lines through the server's /tokenize, labels on the assistant turns", async () => {
    const path = builtinStore("tokens-store.db");
    const store = openStore(path);
    const runId = "run-b" as RunId;
    store.insertStep({ runId, stepIndex: 1, environment: "inkwell", strategy: "direct", seed: 2 });
    store.startEpisode({ id: "ep-1" as EpisodeId, runId, role: "proposer", stepIndex: 1 });
    const call = { id: "c1", name: "bash", arguments: "{}" };
    store.recordProposal({
      runId,
      stepIndex: 1,
      episodeId: "ep-1" as EpisodeId,
      episode: {
        id: "ep-1",
        role: "proposer",
        policy: { kind: "openai", name: "qwen", version: "1" },
        status: "completed",
        exitReason: "submitted",
        trajectory: [],
        samples: [],
        conversation: {
          callFormat: "native",
          tools: [{ name: "bash", description: "Runs a command.", parameters: {} }],
          toolsOffered: true,
          messages: [
            { role: "system", content: "S" },
            { role: "user", content: "U" },
            { role: "assistant", content: "a", toolCalls: [call] },
            { role: "tool", toolCallId: "c1", content: "o" },
            { role: "assistant", content: "b" },
          ],
          calls: [[call], []],
        },
        startedAt: "2026-01-01T00:00:00.000Z",
        endedAt: "2026-01-01T00:00:01.000Z",
        stats: {},
      },
      proposerGroupId: "run-b/step-1",
      artifact: null,
      failure: { reward: -1, reason: "no artifact" },
    });
    store.close();
    const server = await startTokenizeServer();
    try {
      const out = join(temp.path, "tokens-out");
      const exported = await runCli([
        "export",
        "--store",
        path,
        "--format",
        "sft-tokens",
        "--out",
        out,
        "--tokenizer-url",
        server.url,
        "--json",
      ]);
      expect(exported.code, exported.stderr).toBe(0);
      expect(JSON.parse(exported.stdout)).toMatchObject({ format: "sft-tokens", count: 1 });
      expect(exported.stderr).toContain("skipped 1 episode: policy without tool calls (builtin)");
      const [line, ...rest] = readFileSync(join(out, "sft-tokens.jsonl"), "utf8").trim().split("\n");
      expect(rest).toEqual([]);
      const { input_ids: ids, labels, meta } = JSON.parse(line!);
      expect(meta).toMatchObject({ episode_id: "ep-1", role: "proposer", valid: false, reward: -1 });
      const kept = String.fromCodePoint(
        ...labels.map((label: number) => (label === -100 ? 32 : label === 1001 ? 124 : label)),
      );
      expect(kept.trim().split(/ +/)).toEqual(["a<bash>|", "b|"]);
      expect(labels).toHaveLength(ids.length);
    } finally {
      server.close();
    }
  });
});
