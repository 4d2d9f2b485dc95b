// `run` against a server that returns no token ids (llama.cpp's shape, served by the scripted model server):
// the capability probe says so before any episode, --rollouts refuses to start without --allow-untrainable,
// and the summary tells how many episodes gave trainable samples and why the others did not.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatSummary } from "../../src/selfplay/index.js";
import { runCli } from "../support/cli.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { type ScriptedModelServer, startScriptedModelServer } from "../support/scripted-model-server.js";
import { makeTempDir } from "../support/tmp.js";
import { selfPlayScript } from "./model-script.js";

describe("run against a chat server without token ids", () => {
  const temp = makeTempDir("swe-selfplay-untrainable-");
  let server: ScriptedModelServer;
  let repo: string;

  beforeAll(async () => {
    repo = await makePythonFixtureRepo(temp.path);
    server = await startScriptedModelServer(selfPlayScript(pythonFixtureArtifact()), { shape: "llama.cpp" });
  });

  afterAll(async () => {
    await server?.close();
    temp.remove();
  });

  const job = (store: string) => [
    "run",
    "--repo",
    `inkwell=${repo}`,
    "--store",
    join(temp.path, store),
    "--steps",
    "1",
    "--group-size",
    "2",
    "--no-second-order",
    "--no-progress",
  ];
  const openai = () => ["--policy", "openai", "--base-url", server.baseUrl, "--model", "scripted"];

  it("refuses --rollouts before any episode, saying what the server lacks", async () => {
    const result = await runCli([
      ...job("refused.db"),
      ...openai(),
      "--rollouts",
      join(temp.path, "refused"),
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/token ids: no \(no prompt_token_ids\)/);
    expect(result.stderr).toMatch(
      /--rollouts would export no trainable samples: the server returns no token ids/,
    );
    expect(result.stderr).toContain("--allow-untrainable");
    expect(server.requests).toHaveLength(0);
  });

  it("with --allow-untrainable runs, and the summary counts the episodes without samples and says why", async () => {
    const out = join(temp.path, "allowed");
    const result = await runCli([
      ...job("allowed.db"),
      ...openai(),
      "--rollouts",
      out,
      "--allow-untrainable",
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.status).toBe("completed");
    expect(summary.artifacts.valid).toBe(1);
    // One proposer and two solver episodes, none with samples, each for the same reason.
    expect(summary.trainable).toEqual({
      samples: 0,
      episodes: 3,
      episodesWithSamples: 0,
      untrainable: { "the model server returned no token ids": 3 },
    });
    expect(formatSummary(summary)).toMatch(
      /^trainable +0 samples from 0 of 3 episodes \(3 without: the model server returned no token ids\)$/m,
    );
    expect(existsSync(join(out, "rollouts", "step_000000", "_DONE"))).toBe(true);
    // Tools reached the model through tool_choice, so the episodes ran on real tool calls.
    expect(server.requests.every((request) => request.body.tool_choice === "auto")).toBe(true);
    // The probe found that this server drops tool messages, so their outputs went as user messages the model saw.
    expect(result.stderr).toMatch(
      /tool results in the prompt: no \(.*sending them as user messages instead\)/,
    );
    const afterEdits = server.requests.filter((request) => request.promptText.includes("Output of editor"));
    expect(afterEdits.length).toBeGreaterThan(0);
    expect(
      server.requests.flatMap((request) => request.body.messages).some((message) => message.role === "tool"),
    ).toBe(false);
  });

  it("exits 1 after a run whose --rollouts export holds no samples (here: the builtin policy)", async () => {
    const result = await runCli([
      ...job("builtin.db"),
      "--set",
      "policy.kind=builtin",
      "--set",
      "policy.testRunBudget=2",
      "--group-size",
      "1",
      "--rollouts",
      join(temp.path, "builtin"),
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(
      /trainable +0 samples from 0 of \d+ episodes \(\d+ without: the builtin policy samples no tokens\)/,
    );
    expect(result.stderr).toMatch(/--rollouts exported no trainable samples: .*pass --allow-untrainable/);
  });
});
