// `swe-selfplay export` through the real CLI on a store written through the store's own API: an empty export
// says why it is empty.
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
  });
});
