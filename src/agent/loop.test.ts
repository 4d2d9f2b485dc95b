import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type Script,
  type ScriptedModelServer,
  type ScriptedServerOptions,
  startScriptedModelServer,
  tokenize,
} from "../../test/support/scripted-model-server.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { createModelClient } from "../model/openai-client.js";
import type { Sandbox, SandboxBackend } from "../ports/sandbox.js";
import { rolloutInvariantViolations } from "../rollout/rollout-record.js";
import { createLocalBackend } from "../sandbox/local/backend.js";
import { nativeCallFormat, textCallFormat } from "./call-format.js";
import { type LoopOptions, runAgentLoop, type TrajectoryStep } from "./loop.js";
import { createBashTool } from "./tools/bash.js";
import { createEditorTool } from "./tools/editor.js";
import { createSolverSubmitTool } from "./tools/submit.js";

const temp = makeTempDir("agent-loop-");
let backend: SandboxBackend;
let repo: string;
let server: ScriptedModelServer | undefined;
const sandboxes: Sandbox[] = [];

beforeAll(() => {
  repo = join(temp.path, "repo");
  execFileSync("mkdir", ["-p", repo]);
  writeFileSync(join(repo, "calc.py"), "def sub(a, b):\n    return a + b\n");
  execFileSync("git", ["init", "-q", repo]);
  execFileSync("git", ["-C", repo, "add", "."]);
  execFileSync("git", ["-C", repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"]);
  backend = createLocalBackend();
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.destroy()));
});

afterAll(async () => {
  await backend?.close();
  temp.remove();
});

async function episode(
  script: Script,
  overrides: Partial<LoopOptions> = {},
  serverOptions: ScriptedServerOptions = {},
) {
  server = await startScriptedModelServer(script, serverOptions);
  const sandbox = await backend.create({
    environment: { kind: "dir", path: repo },
    label: "agent-loop-test",
  });
  sandboxes.push(sandbox);
  const steps: TrajectoryStep[] = [];
  const result = await runAgentLoop({
    model: createModelClient({ baseUrl: server.baseUrl, model: "scripted", retryBaseDelayMs: 5 }),
    tools: [createBashTool({ timeoutMs: 5_000 }), createEditorTool(), createSolverSubmitTool()],
    callFormat: nativeCallFormat,
    sandbox,
    systemPrompt: "You fix bugs.",
    userPrompt: "sub() is wrong.",
    onStep: (step) => {
      steps.push(step);
    },
    ...overrides,
  });
  return { result, steps, sandbox, server };
}

const bash = (command: string) => ({
  reply: { content: "run", toolCalls: [{ name: "bash", arguments: { command } }] },
});
const submit = { reply: { content: "done", toolCalls: [{ name: "submit", arguments: {} }] } };

describe("runAgentLoop", () => {
  it("runs tools until submit, records every step and one rollout sample that matches the server's tokens", async () => {
    const trajectoryFile = join(temp.path, "trajectory.jsonl");
    const { result, steps, server } = await episode(
      [
        bash("cat calc.py"),
        {
          reply: {
            content: null,
            toolCalls: [
              {
                name: "editor",
                arguments: { command: "str_replace", path: "calc.py", old_str: "a + b", new_str: "a - b" },
              },
            ],
          },
        },
        submit,
      ],
      { trajectoryFile },
    );
    expect(result.exitReason).toBe("submitted");
    expect((result.submission as { patch: string }).patch).toContain("+    return a - b");
    expect(steps.map((step) => step.observations[0]!.status)).toEqual(["ok", "ok", "submitted"]);
    expect(steps[0]!.observations[0]!.output).toContain("return a + b");
    expect(readFileSync(trajectoryFile, "utf8").trim().split("\n")).toHaveLength(3);
    // Each observation ends with the budget line.
    const toolMessage = server.requests[1]!.body.messages.at(-1);
    expect(toolMessage.role).toBe("tool");
    expect(toolMessage.content).toMatch(/\[budget: 63 turns and about \d+ context tokens left\]$/);
    // The three turns extend each other, so they form one sample: last prompt + last completion.
    const samples = result.rollout.samples({
      episodeId: "e",
      groupId: "g",
      role: "solver",
      policyVersion: "test",
      sampling: { model: "scripted", temperature: 1, top_p: 0.95 },
      status: "completed",
    });
    expect(samples).toHaveLength(1);
    const sample = samples[0]!;
    const lastCompletion = tokenize('done<call name="submit">{}</call><|end|>\n');
    expect(sample.tokens).toEqual([...server.requests[2]!.promptTokenIds, ...lastCompletion]);
    expect(sample.prompt_len).toBe(server.requests[0]!.promptTokenIds.length);
    // Each turn's sampled tokens start right after its prompt; the last prompt token (an observation) is masked out.
    for (const request of server.requests) {
      expect(sample.loss_mask[request.promptTokenIds.length]).toBe(1);
      expect(sample.loss_mask[request.promptTokenIds.length - 1]).toBe(0);
    }
    expect(sample.loss_mask.filter((mask) => mask === 1).length).toBe(
      server.requests.reduce((sum, request, index) => {
        const end = server.requests[index + 1]?.promptTokenIds.length ?? sample.tokens.length;
        const text = Buffer.from(sample.tokens.slice(request.promptTokenIds.length, end)).toString("utf8");
        return sum + tokenize(text.slice(0, text.indexOf("<|end|>\n") + "<|end|>\n".length)).length;
      }, 0),
    );
    expect(rolloutInvariantViolations(sample)).toEqual([]);
    expect(result.stats.turns).toBe(3);
  });

  it("answers malformed calls with messages and stops after too many in a row", async () => {
    const { result, steps, server } = await episode(
      [
        { reply: { content: "x", toolCalls: [{ name: "bash", arguments: "{not json" }] } },
        { reply: { content: "y", toolCalls: [{ name: "shell", arguments: { command: "ls" } }] } },
        { reply: { content: "I am done thinking." } },
      ],
      { limits: { maxConsecutiveFormatErrors: 3 } },
    );
    expect(result.exitReason).toBe("format-errors");
    expect(steps.map((step) => step.formatError !== null)).toEqual([true, true, true]);
    expect(steps[0]!.observations[0]!.output).toMatch(/not valid JSON/);
    expect(steps[1]!.observations[0]!.output).toMatch(/no tool named "shell".*bash, editor, submit/);
    expect(server.requests[2]!.body.messages.at(-1).content).toMatch(/There is no tool named/);
    expect(result.stats.formatErrors).toBe(3);
  });

  it("recovers from a format error: the count is of consecutive errors", async () => {
    const { result } = await episode(
      [{ reply: { content: "thinking" } }, bash("true"), { reply: { content: "hmm" } }, submit],
      { limits: { maxConsecutiveFormatErrors: 2 } },
    );
    expect(result.exitReason).toBe("submitted");
    expect(result.stats.formatErrors).toBe(2);
  });

  it("answers the tool calls of a reply cut at the token limit, so the conversation stays well-formed", async () => {
    const { result, steps, server } = await episode([
      {
        reply: {
          content: "x",
          toolCalls: [{ name: "bash", arguments: { command: "rm -rf ." } }],
          finishReason: "length",
        },
      },
      submit,
    ]);
    expect(result.exitReason).toBe("submitted");
    expect(steps[0]!.formatError).toMatch(/cut off/);
    const answer = server.requests[1]!.body.messages.at(-1);
    expect(answer).toMatchObject({ role: "tool", tool_call_id: "call_0_0" });
    expect(answer.content).toMatch(/^Not run\. Your reply was cut off/);
    expect((result.submission as { patch: string }).patch).toBe("");
  });

  it("speaks the text call format: one <tool: …> block per reply", async () => {
    const { result, steps, server } = await episode(
      [
        { reply: { content: "Look first.\n<tool: bash>\ngrep -n return calc.py\n</tool>" } },
        { reply: { content: "<tool: bash>ls</tool><tool: bash>pwd</tool>" } },
        {
          reply: {
            content:
              '<tool: editor>\n{"command": "str_replace", "path": "calc.py", "old_str": "a + b", "new_str": "a - b"}\n</tool>',
          },
        },
        { reply: { content: "<tool: submit>\n{}\n</tool>" } },
      ],
      { callFormat: textCallFormat },
    );
    expect(result.exitReason).toBe("submitted");
    expect(server.requests[0]!.body.tools).toBeUndefined();
    expect(server.requests[0]!.body.messages[0].content).toContain("<tool: NAME>");
    expect(steps[0]!.observations[0]!.output).toContain("2:    return a + b");
    expect(steps[1]!.formatError).toMatch(/exactly one/);
    expect(server.requests[1]!.body.messages.at(-1).content).toMatch(/^<output>\n\[exit code 0\]/);
    expect((result.submission as { patch: string }).patch).toContain("+    return a - b");
  });

  it("stops at the turn limit", async () => {
    const { result } = await episode(() => bash("true"), { limits: { maxTurns: 3 } });
    expect(result.exitReason).toBe("max-turns");
    expect(result.stats.turns).toBe(3);
  });

  it("stops when the context budget is used up, and when the server refuses a long prompt", async () => {
    const own = await episode(() => bash("seq 1 2000"), { limits: { maxContextTokens: 6_000 } });
    expect(own.result.exitReason).toBe("context-overflow");
    expect(own.result.stats.turns).toBeLessThan(10);
    await server?.close();
    const refused = await episode(() => bash("seq 1 2000"), {}, { maxContextTokens: 6_000 });
    expect(refused.result.exitReason).toBe("context-overflow");
  });

  it("cuts long observations with a marker", async () => {
    const { steps } = await episode([bash("seq 1 20000"), submit], {
      limits: { maxObservationChars: 2_000 },
    });
    const output = steps[0]!.observations[0]!.output;
    expect(output.length).toBeLessThan(2_200);
    expect(output).toMatch(/\[\.\.\. \d+ characters omitted/);
    expect(output.endsWith("19999\n20000")).toBe(true);
  });

  it("starts a new rollout sample when the server's prompt no longer extends the previous tokens", async () => {
    const { result } = await episode(
      [bash("true"), bash("true"), submit],
      {},
      { changeTemplateFromRequest: 2 },
    );
    const samples = result.rollout.samples({
      episodeId: "e",
      groupId: "g",
      role: "solver",
      policyVersion: "test",
      sampling: { model: "scripted", temperature: 1, top_p: 0.95 },
      status: "completed",
    });
    expect(samples.map((sample) => sample.meta.turns)).toEqual([
      [0, 1],
      [2, 2],
    ]);
    expect(samples[1]!.meta.start_reason).toBe("prefix-mismatch");
    expect(result.rollout.prefixMismatches).toBe(1);
    for (const sample of samples) expect(rolloutInvariantViolations(sample)).toEqual([]);
  });

  it("ends at the wall-time limit, interrupting a command in flight", async () => {
    const { result, steps } = await episode([bash("sleep 20"), submit], { limits: { maxWallTimeMs: 1_000 } });
    expect(result.exitReason).toBe("wall-time");
    expect(steps[0]!.observations[0]!.output).toMatch(/aborted/);
    expect(steps[0]!.toolMs).toBeLessThan(5_000);
  });

  it("ends as aborted when the signal fires during a model call", async () => {
    // Aborts once the second model call is in flight, however long the first turn took.
    const controller = new AbortController();
    const { result } = await episode(
      (request) => {
        if (request.index === 0) return bash("true");
        setTimeout(() => controller.abort(new Error("shutdown")), 50);
        return { hang: true };
      },
      { abortSignal: controller.signal },
    );
    expect(result.exitReason).toBe("aborted");
    expect(result.steps).toHaveLength(1);
  });
});
