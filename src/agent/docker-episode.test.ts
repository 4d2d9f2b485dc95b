// An agent episode on the real toolz library inside a Docker sandbox: the same tools and loop as on the
// local backend (skipped, with the reason, when no Docker engine answers; REQUIRE_DOCKER=1 makes it fail).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipDocker } from "../../test/support/docker.js";
import { startScriptedModelServer } from "../../test/support/scripted-model-server.js";
import { ensureToolzImage } from "../../test/support/toolz.js";
import { createModelClient } from "../model/openai-client.js";
import type { SandboxBackend } from "../ports/sandbox.js";
import { rolloutInvariantViolations } from "../rollout/rollout-record.js";
import { openSandboxes } from "../sandbox/index.js";
import { nativeCallFormat } from "./call-format.js";
import { runAgentLoop } from "./loop.js";
import { createBashTool } from "./tools/bash.js";
import { createEditorTool } from "./tools/editor.js";
import { createSolverSubmitTool } from "./tools/submit.js";

describe.skipIf(skipDocker())("agent episode in a Docker sandbox (toolz)", () => {
  let sandboxes: SandboxBackend;
  let image: string;

  beforeAll(async () => {
    image = await ensureToolzImage();
    sandboxes = openSandboxes();
  });

  afterAll(async () => {
    await sandboxes?.close();
  });

  it("explores, edits and submits the diff of the real library", async () => {
    const call = (name: string, args: Record<string, unknown>) => ({
      reply: { content: "", toolCalls: [{ name, arguments: args }] },
    });
    const server = await startScriptedModelServer([
      call("bash", {
        command:
          "python3 -c \"import toolz; print(toolz.utils.raises(ValueError, lambda: int('x')))\" ; git log --oneline | wc -l",
      }),
      call("editor", { command: "view", path: "toolz/utils.py", view_range: [1, 6] }),
      call("editor", {
        command: "str_replace",
        path: "toolz/utils.py",
        old_str: "no_default = '__no__default__'",
        new_str: "no_default = '__no__default__'  # sentinel",
      }),
      call("editor", {
        command: "create",
        path: "/tmp/notes/plan.txt",
        file_text: "outside the repository\n",
      }),
      call("bash", { command: "cat /tmp/notes/plan.txt" }),
      call("submit", {}),
    ]);
    const sandbox = await sandboxes.create({
      environment: { kind: "image", image },
      label: "agent-docker-test",
    });
    try {
      const result = await runAgentLoop({
        model: createModelClient({ baseUrl: server.baseUrl, model: "scripted" }),
        tools: [createBashTool(), createEditorTool(), createSolverSubmitTool()],
        callFormat: nativeCallFormat,
        sandbox,
        systemPrompt: "You work on toolz.",
        userPrompt: "Annotate the sentinel.",
      });
      expect(result.exitReason).toBe("submitted");
      const outputs = result.steps.map((step) => step.observations[0]!.output);
      expect(outputs[0]).toBe("[exit code 0]\nTrue\n1");
      expect(outputs[1]).toBe(
        "     1\tdef raises(err, lamda):\n     2\t    try:\n     3\t        lamda()\n     4\t        return False\n     5\t    except err:\n     6\t        return True",
      );
      expect(outputs[4]).toBe("[exit code 0]\noutside the repository");
      const patch = (result.submission as { patch: string }).patch;
      expect(patch).toContain("diff --git a/toolz/utils.py b/toolz/utils.py");
      expect(patch).toContain("+no_default = '__no__default__'  # sentinel");
      expect(patch).not.toContain("plan.txt");
      const samples = result.rollout.samples({
        episodeId: "docker",
        groupId: "docker",
        role: "solver",
        policyVersion: "test",
        sampling: { model: "scripted", temperature: 1, top_p: 0.95 },
        status: "completed",
      });
      expect(samples).toHaveLength(1);
      expect(rolloutInvariantViolations(samples[0]!)).toEqual([]);
    } finally {
      await sandbox.destroy();
      await server.close();
    }
  });
});
