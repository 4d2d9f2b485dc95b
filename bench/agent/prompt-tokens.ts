// Prompt tokens of the first request of a solver and of a proposer episode, as the served model sees them:
// each episode's first request (system prompt, task prompt, tool specifications) is caught by the scripted
// model server, then rendered with the model's own chat template and tokenizer (transformers, offline, from
// the model directory) in the trainer's Python. Prints the total and its parts (system, task, tools).
// Usage: npx tsx bench/agent/prompt-tokens.ts [--call-format hermes|native|json|text] [--json]
//   needs SWE_SELFPLAY_TRAINER_PYTHON (a Python with transformers) and SWE_SELFPLAY_VLLM_MODEL (the model
//   directory with its tokenizer): `source` the env files that scripts/prepare-vllm.sh and
//   scripts/prepare-trainer.sh write.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CallFormatName, createAgentPolicy } from "../../src/agent/index.js";
import { reverseDiff, unwrapDiff } from "../../src/artifact/index.js";
import { createModelClient } from "../../src/model/index.js";
import type { RunOptions, RunResult, SandboxView } from "../../src/ports/sandbox.js";
import { DEFAULT_THRESHOLDS, renderSolverPrompt } from "../../src/validation/index.js";
import { pythonFixtureArtifact } from "../../test/support/fixture-artifacts.js";
import { type ReceivedRequest, startScriptedModelServer } from "../../test/support/scripted-model-server.js";

const argv = process.argv.slice(2);
const formatIndex = argv.indexOf("--call-format");
const callFormat = (formatIndex < 0 ? "hermes" : argv[formatIndex + 1]) as CallFormatName;
const json = argv.includes("--json");
const python = process.env.SWE_SELFPLAY_TRAINER_PYTHON;
const model = process.env.SWE_SELFPLAY_VLLM_MODEL;
if (!python || !model)
  throw new Error(
    "set SWE_SELFPLAY_TRAINER_PYTHON and SWE_SELFPLAY_VLLM_MODEL (source the prepare-*.sh env files)",
  );

/** A sandbox whose commands return at once: only the first request matters here. */
const sandbox: SandboxView = {
  id: "prompt-tokens",
  workdir: "/testbed",
  run: async (_options: RunOptions): Promise<RunResult> => ({
    status: "exited",
    exitCode: 0,
    stdout: "",
    stderr: "",
    truncated: false,
    durationMs: 0,
  }),
  readFile: async () => Buffer.from(""),
  writeFile: async () => undefined,
  diff: async () => "",
  applyPatch: async () => ({ status: "applied", files: [] }),
};

const requests: ReceivedRequest[] = [];
const server = await startScriptedModelServer((request) => {
  requests.push(request);
  return { reply: { content: "done" } };
});
try {
  const policy = createAgentPolicy({
    client: createModelClient({ baseUrl: server.baseUrl, apiKey: "none", model: "m" }),
    modelName: "m",
    callFormat,
    limits: { maxTurns: 1 },
  });
  const artifact = pythonFixtureArtifact();
  const specification = unwrapDiff(reverseDiff(artifact.testWeakenDiff), "test_weaken.diff");
  await policy.solve({
    sandbox,
    specification,
    prompt: renderSolverPrompt(specification, "/testbed"),
    seed: 0,
  });
  await policy.propose({
    sandbox,
    environmentName: "inkwell",
    strategy: "removal",
    seed: 0,
    thresholds: DEFAULT_THRESHOLDS,
    validate: async () => {
      throw new Error("not reached");
    },
  });
} finally {
  await server.close();
}

const [solver, proposer] = requests.map((request) => ({
  messages: request.body.messages,
  tools: request.body.tools ?? null,
}));
const directory = mkdtempSync(join(tmpdir(), "prompt-tokens-"));
try {
  const input = join(directory, "requests.json");
  writeFileSync(input, JSON.stringify({ solver, proposer }));
  const script = `
import json, sys
from transformers import AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained(sys.argv[1])
requests = json.load(open(sys.argv[2]))
def count(messages, tools):
    ids = tokenizer.apply_chat_template(messages, tools=tools, tokenize=True, add_generation_prompt=True)
    return len(ids["input_ids"] if hasattr(ids, "keys") else ids)
out = {}
for role, request in requests.items():
    messages, tools = request["messages"], request["tools"]
    total = count(messages, tools)
    system_only = count(messages[:1], None)
    without_tools = count(messages, None)
    out[role] = {"total": total, "tools": total - without_tools, "system": system_only,
                 "task": without_tools - system_only}
print(json.dumps(out))
`;
  const counts = JSON.parse(
    execFileSync(python, ["-c", script, model, input], {
      encoding: "utf8",
      env: { ...process.env, TRANSFORMERS_OFFLINE: "1", HF_HUB_OFFLINE: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    }),
  ) as Record<string, { total: number; tools: number; system: number; task: number }>;
  if (json) process.stdout.write(`${JSON.stringify({ callFormat, ...counts })}\n`);
  else
    for (const [role, figures] of Object.entries(counts))
      process.stdout.write(
        `${role} first request (${callFormat}): ${figures.total} prompt tokens = system ${figures.system} + task ${figures.task} + tool specifications ${figures.tools}\n`,
      );
} finally {
  rmSync(directory, { recursive: true, force: true });
}
