// The `propose` command through the real CLI, with a scripted model server on loopback.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../test/support/cli.js";
import { pythonFixtureArtifact } from "../../../test/support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../../../test/support/fixture-repos.js";
import {
  type ReceivedRequest,
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "../../../test/support/scripted-model-server.js";
import { makeTempDir } from "../../../test/support/tmp.js";

const temp = makeTempDir("cli-agent-");
let repo: string;
let server: ScriptedModelServer | undefined;
const artifact = pythonFixtureArtifact();

beforeAll(async () => {
  repo = await makePythonFixtureRepo(temp.path);
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

afterAll(() => temp.remove());

const call = (name: string, args: Record<string, unknown>): ScriptStep => ({
  reply: { content: "", toolCalls: [{ name, arguments: args }] },
});

function turnOf(request: ReceivedRequest): number {
  return request.body.messages.filter((message: { role: string }) => message.role === "assistant").length;
}

const openai = (baseUrl: string) => [
  "--policy",
  "openai",
  "--base-url",
  baseUrl,
  "--model",
  "scripted",
  "--json",
];

describe("swe-selfplay propose", () => {
  it("runs a proposer episode, writes the artifact with its report and episode, exit 0 when valid", async () => {
    const files: Record<string, string> = {
      test_script: artifact.testScript,
      test_files: `${artifact.testFiles.join("\n")}\n`,
      test_parser: artifact.testParser,
      bug_inject_diff: artifact.bugInjectDiff,
      test_weaken_diff: artifact.testWeakenDiff,
    };
    const names = Object.keys(files);
    server = await startScriptedModelServer((request) => {
      const turn = turnOf(request);
      if (turn < names.length)
        return call("editor", {
          command: "create",
          path: `/tmp/artifact/${names[turn]}`,
          file_text: files[names[turn]!],
        });
      return call("submit", Object.fromEntries(names.map((name) => [name, `/tmp/artifact/${name}`])));
    });
    const out = join(temp.path, "proposed");
    const result = await runCli([
      "propose",
      "--repo",
      repo,
      "--strategy",
      "direct",
      "--seed",
      "4",
      "--out",
      out,
      "--temperature",
      "0.5",
      "--top-k",
      "5",
      "--extra-body",
      '{"repetition_penalty":1.1}',
      ...openai(server.baseUrl),
    ]);
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({ status: "submitted", verdict: "valid" });
    expect(readFileSync(join(out, "bug_inject.diff"), "utf8")).toBe(artifact.bugInjectDiff);
    expect(JSON.parse(readFileSync(join(out, "report.json"), "utf8")).verdict).toBe("valid");
    const episode = JSON.parse(readFileSync(join(out, "episode.json"), "utf8"));
    expect(episode.exitReason).toBe("submitted");
    expect(episode.samples.length).toBeGreaterThan(0);
    const trajectory = readFileSync(join(out, `proposer-${episode.id}.jsonl`), "utf8")
      .trim()
      .split("\n");
    expect(trajectory).toHaveLength(6);
    // Every sampling setting as sent, including the default max_tokens, is recorded with the samples.
    expect(server.requests[0]!.body).toMatchObject({
      temperature: 0.5,
      top_k: 5,
      max_tokens: expect.any(Number),
    });
    expect(episode.samples[0].sampling).toEqual({
      model: "scripted",
      temperature: 0.5,
      top_p: 0.95,
      top_k: 5,
      max_tokens: 4096,
      extra_body: { repetition_penalty: 1.1 },
    });
    // Progress on stderr: capabilities first, each turn, the validation with its test runs.
    expect(result.stderr).toMatch(/token ids: yes; logprobs: yes; native tool calls: yes/);
    expect(result.stderr).toMatch(/proposer turn 1: model \d+\.\d s, editor ok/);
    expect(result.stderr).toMatch(/validating the submitted artifact: valid, \d+ test runs in/);
    expect(server.requests[0]!.body.messages[1].content).toContain("Inject a bug directly");
  });

  it("plays the builtin policy by default", async () => {
    const out = join(temp.path, "builtin");
    const result = await runCli(["propose", "--repo", repo, "--out", out, "--json"]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).not.toBe(2);
    const output = JSON.parse(result.stdout);
    expect(["submitted", "failed"]).toContain(output.status);
    const episode = JSON.parse(readFileSync(join(out, "episode.json"), "utf8"));
    expect(episode.policy.kind).toBe("builtin");
    if (output.status === "failed") expect(result.code).toBe(1);
    else {
      expect(result.code).toBe(output.verdict === "valid" ? 0 : 1);
      expect(readFileSync(join(out, "bug_inject.diff"), "utf8")).toMatch(/^diff --git /);
    }
  });
});
