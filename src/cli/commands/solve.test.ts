// The `solve` command through the real CLI, with a scripted model server on loopback.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../test/support/cli.js";
import { pythonFixtureArtifact, withSyntaxErrorBug } from "../../../test/support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../../../test/support/fixture-repos.js";
import {
  type ReceivedRequest,
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "../../../test/support/scripted-model-server.js";
import { makeTempDir } from "../../../test/support/tmp.js";
import type { BugArtifact } from "../../ports/artifact.js";

const temp = makeTempDir("cli-agent-");
let repo: string;
let server: ScriptedModelServer | undefined;
const artifact = pythonFixtureArtifact();

function writeFiles(directory: string, files: BugArtifact): void {
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, "test_script.sh"), files.testScript);
  writeFileSync(join(directory, "test_files.txt"), `${files.testFiles.join("\n")}\n`);
  writeFileSync(join(directory, "test_parser.py"), files.testParser);
  writeFileSync(join(directory, "bug_inject.diff"), files.bugInjectDiff);
  writeFileSync(join(directory, "test_weaken.diff"), files.testWeakenDiff);
  writeFileSync(join(directory, "meta.json"), `${JSON.stringify(files.meta, null, 2)}\n`);
}

beforeAll(async () => {
  repo = await makePythonFixtureRepo(temp.path);
  writeFiles(join(temp.path, "valid"), artifact);
  writeFiles(join(temp.path, "invalid"), withSyntaxErrorBug(artifact));
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

describe("swe-selfplay solve", () => {
  it("runs G attempts in fresh sandboxes, grades each and prints the solve rate", async () => {
    // Attempt seeds are 10 and 11; the model call of turn t carries seed + t.
    server = await startScriptedModelServer((request) => {
      const turn = turnOf(request);
      const attemptSeed = request.body.seed - turn;
      if (attemptSeed === 11 || turn === 2) return call("submit", {});
      if (turn === 0)
        return call("editor", {
          command: "create",
          path: "/tmp/bug.diff",
          file_text: artifact.bugInjectDiff,
        });
      return call("bash", { command: "git apply -R /tmp/bug.diff" });
    });
    const result = await runCli([
      "solve",
      join(temp.path, "valid"),
      "--repo",
      repo,
      "--attempts",
      "2",
      "--seed",
      "10",
      "--trajectories",
      join(temp.path, "trajectories"),
      ...openai(server.baseUrl),
    ]);
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.verdict).toBe("valid");
    expect(output.attempts.map((attempt: { grade: { status: string } }) => attempt.grade.status)).toEqual([
      "resolved",
      "unresolved",
    ]);
    expect(output.solveRate).toBe(0.5);
    const files = readdirSync(join(temp.path, "trajectories"));
    expect(files.sort()).toEqual(
      output.attempts
        .map((attempt: { episode: { id: string } }) => `solver-${attempt.episode.id}.jsonl`)
        .sort(),
    );
  });

  it("works against a llama.cpp-shaped server, reports what it lacks, and keeps finished attempts when one fails", async () => {
    // Tool calls come back only when tool_choice is sent; content null is refused with 500; no token ids.
    server = await startScriptedModelServer(
      (request) => {
        const turn = turnOf(request);
        if (request.body.seed - turn === 1)
          return {
            error: {
              status: 500,
              message:
                "2 validation errors for CreateChatCompletionRequest\nmessages.3.content\n  Input should be a valid string",
            },
          };
        if (turn === 0)
          return {
            reply: {
              content: null,
              toolCalls: [
                {
                  name: "editor",
                  arguments: { command: "create", path: "/tmp/bug.diff", file_text: artifact.bugInjectDiff },
                },
              ],
            },
          };
        if (turn === 1)
          return {
            reply: {
              content: null,
              toolCalls: [{ name: "bash", arguments: { command: "git apply -R /tmp/bug.diff" } }],
            },
          };
        return { reply: { content: null, toolCalls: [{ name: "submit", arguments: {} }] } };
      },
      { shape: "llama.cpp" },
    );
    const result = await runCli([
      "solve",
      join(temp.path, "valid"),
      "--repo",
      repo,
      "--attempts",
      "2",
      ...openai(server.baseUrl),
    ]);
    expect(result.code, result.stderr).toBe(2);
    const output = JSON.parse(result.stdout);
    expect(output.attempts.map((attempt: { grade: { status: string } }) => attempt.grade.status)).toEqual([
      "resolved",
    ]);
    expect(output.error).toMatchObject({ attempt: 1 });
    expect(output.error.message).toContain("HTTP 500: 2 validation errors");
    // The failing request was sent once, and its whole detail is on one stderr line without a stack trace.
    expect(server.requests.filter((request) => request.body.seed - turnOf(request) === 1)).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^swe-selfplay: .*HTTP 500: 2 validation errors .* Input should be a valid string$/m,
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
    // Capabilities before the first episode, then one line per turn.
    expect(result.stderr).toMatch(/token ids: no \(no prompt_token_ids\).*native tool calls: yes/);
    expect(result.stderr).toMatch(/episodes against this server give no trainable samples/);
    expect(result.stderr).toMatch(/attempt 1\/2 turn 1: model \d+\.\d s, editor ok/);
    expect(result.stderr).toMatch(/attempt 1\/2: grading: resolved in/);
    expect(server.requests.every((request) => request.body.tool_choice === "auto")).toBe(true);
  });

  it("exits 1 without running attempts when the artifact is invalid", async () => {
    server = await startScriptedModelServer([]);
    const result = await runCli([
      "solve",
      join(temp.path, "invalid"),
      "--repo",
      repo,
      ...openai(server.baseUrl),
    ]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ verdict: "invalid", failedCheck: "bug" });
    expect(server.requests).toHaveLength(0);
  });

  it("exits 2 on usage errors", async () => {
    const both = await runCli(["solve", join(temp.path, "valid"), "--repo", repo, "--image", "x"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --repo DIR or --image NAME/);
    const noModel = await runCli(["solve", join(temp.path, "valid"), "--repo", repo, "--policy", "openai"], {
      env: { SWE_SELFPLAY_BASE_URL: "", SWE_SELFPLAY_MODEL: "" },
    });
    expect(noModel.code).toBe(2);
  });
});
