// The agent policy end to end: a scripted model behind a real HTTP server drives real sandboxes on the
// Python fixture; artifacts go through real validation and patches through real grading.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { pythonFixtureArtifact, withAllPassingParser } from "../../test/support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import {
  type Script,
  type ScriptedModelServer,
  startScriptedModelServer,
} from "../../test/support/scripted-model-server.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { createModelClient } from "../model/index.js";
import { toWireMessage, toWireTool } from "../model/wire.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { Demonstrator } from "../ports/demonstrator.js";
import type { PolicyEpisode } from "../ports/policy.js";
import { type Environment, type SandboxBackend, viewOf } from "../ports/sandbox.js";
import type { ValidationReport } from "../ports/validation.js";
import { rolloutInvariantViolations } from "../rollout/rollout-record.js";
import { openSandboxes } from "../sandbox/index.js";
import { createSolverTask, createValidator, grade, type Validator } from "../validation/index.js";
import { createAgentPolicy } from "./policy.js";

const temp = makeTempDir("agent-policy-");
let sandboxes: SandboxBackend;
let environment: Environment;
let validator: Validator;
let server: ScriptedModelServer | undefined;
const artifact = pythonFixtureArtifact();
let report: ValidationReport;

beforeAll(async () => {
  environment = { kind: "dir", path: await makePythonFixtureRepo(temp.path) };
  sandboxes = openSandboxes();
  validator = createValidator({ sandboxes });
  report = await validator.validate(environment, artifact);
  expect(report.verdict).toBe("valid");
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

afterAll(async () => {
  await sandboxes?.close();
  temp.remove();
});

const call = (name: string, args: Record<string, unknown>, content = "") => ({
  reply: { content, toolCalls: [{ name, arguments: args }] },
});

async function policyFor(script: Script) {
  server = await startScriptedModelServer(script);
  return createAgentPolicy({
    client: createModelClient({ baseUrl: server.baseUrl, model: "scripted" }),
    modelName: "scripted",
  });
}

function expectSoundSamples(episode: PolicyEpisode) {
  expect(episode.samples.length).toBeGreaterThan(0);
  for (const sample of episode.samples) expect(rolloutInvariantViolations(sample)).toEqual([]);
}

async function solveOnce(script: Script) {
  const policy = await policyFor(script);
  const task = await createSolverTask({ sandboxes, environment, artifact });
  const steps: PolicyEpisode[] = [];
  try {
    const outcome = await policy.solve({
      sandbox: viewOf(task.sandbox),
      specification: task.specification,
      prompt: task.prompt,
      seed: 1,
      onStep: (episode) => {
        steps.push(episode);
      },
    });
    const graded = await grade({ sandboxes, environment, artifact, report, patch: outcome.patch });
    return { outcome, graded, steps };
  } finally {
    await task.sandbox.destroy();
  }
}

describe("agent policy as solver", () => {
  it("repairs the fixture bug and is graded resolved", async () => {
    const { outcome, graded, steps } = await solveOnce([
      call("bash", { command: "grep -rn 'def center' inkwell/wrap.py" }, "Find the code."),
      call("editor", { command: "create", path: "/tmp/bug.diff", file_text: artifact.bugInjectDiff }),
      call("bash", { command: "git apply -R /tmp/bug.diff && git status --short" }),
      call("submit", {}, "Fixed."),
    ]);
    expect(outcome.episode.exitReason).toBe("submitted");
    expect(outcome.episode.status).toBe("completed");
    expect(outcome.episode.policy).toMatchObject({ kind: "openai", name: "scripted" });
    expect(graded.status).toBe("resolved");
    expect(steps.length).toBe(4);
    expect(steps[0]!.endedAt).toBeNull();
    expect(server!.requests[0]!.body.messages[1].content).toBe(await createSolverTaskPrompt());
    expectSoundSamples(outcome.episode);
    expect(outcome.episode.samples[0]!.meta).toMatchObject({ episode_turns: 4, format_errors: 0 });
    // The stored conversation is what the model was sent: every message of the last request, the tools, the calls.
    const conversation = outcome.episode.conversation!;
    const lastRequest = server!.requests.at(-1)!.body;
    expect(conversation.messages.slice(0, lastRequest.messages.length).map(toWireMessage)).toEqual(
      lastRequest.messages,
    );
    expect(conversation.messages.at(-2)).toMatchObject({ role: "assistant", content: "Fixed." });
    expect(conversation.tools.map(toWireTool)).toEqual(lastRequest.tools);
    expect(conversation).toMatchObject({ callFormat: "native", toolsOffered: true });
    expect(conversation.calls.map((calls) => calls.map((call) => call.name))).toEqual([
      ["bash"],
      ["editor"],
      ["bash"],
      ["submit"],
    ]);
  });

  it("an attempt that changes nothing is graded unresolved", async () => {
    const { outcome, graded } = await solveOnce([call("submit", {})]);
    expect(outcome.patch).toBe("");
    expect(graded.resolved).toBe(false);
  });
});

async function createSolverTaskPrompt(): Promise<string> {
  const task = await createSolverTask({ sandboxes, environment, artifact });
  await task.sandbox.destroy();
  return task.prompt;
}

describe("agent policy as proposer", () => {
  function writeArtifact(files: BugArtifact, directory: string) {
    const contents: Record<string, string> = {
      "test_script.sh": files.testScript,
      "test_files.txt": `${files.testFiles.join("\n")}\n`,
      "test_parser.py": files.testParser,
      "bug_inject.diff": files.bugInjectDiff,
      "test_weaken.diff": files.testWeakenDiff,
    };
    return Object.entries(contents).map(([name, text]) =>
      call("editor", { command: "create", path: `${directory}/${name}`, file_text: text }),
    );
  }
  const paths = (directory: string) => ({
    test_script: `${directory}/test_script.sh`,
    test_files: `${directory}/test_files.txt`,
    test_parser: `${directory}/test_parser.py`,
    bug_inject_diff: `${directory}/bug_inject.diff`,
    test_weaken_diff: `${directory}/test_weaken.diff`,
  });

  it("is told why a submission was rejected, resubmits, and returns a valid artifact", async () => {
    const policy = await policyFor([
      call("bash", { command: "git log --oneline | head -5" }, "Look at the history."),
      ...writeArtifact(withAllPassingParser(artifact), "/tmp/first"),
      call("submit", paths("/tmp/first")),
      ...writeArtifact(artifact, "/tmp/artifact"),
      call("submit", paths("/tmp/artifact")),
    ]);
    const sandbox = await sandboxes.create({ environment, label: "agent-propose-test" });
    try {
      const outcome = await policy.propose({
        sandbox: viewOf(sandbox),
        environmentName: "inkwell",
        strategy: "history",
        seed: 3,
        thresholds: validator.thresholds,
        validate: (candidate) => validator.validate(environment, candidate),
      });
      expect(outcome.status).toBe("submitted");
      if (outcome.status !== "submitted") return;
      expect(outcome.artifact.bugInjectDiff).toBe(artifact.bugInjectDiff);
      expect(outcome.artifact.testFiles).toEqual(artifact.testFiles);
      expect(outcome.artifact.meta).toMatchObject({
        environment: "inkwell",
        strategy: "history",
        order: 1,
        seed: 3,
      });
      expect((await validator.validate(environment, outcome.artifact)).verdict).toBe("valid");
      const rejection = server!.requests[7]!.body.messages.at(-1).content as string;
      expect(rejection).toMatch(/rejected by the "\w[\w-]*" check/);
      expect(rejection).toMatch(/submit again/);
      expect(outcome.episode.exitReason).toBe("submitted");
      expect(server!.requests[0]!.body.messages[1].content).toContain("Use the repository's history");
      expectSoundSamples(outcome.episode);
    } finally {
      await sandbox.destroy();
    }
  });

  it("fails when the episode ends without a submission", async () => {
    const policy = await policyFor(() => call("bash", { command: "true" }));
    const sandbox = await sandboxes.create({ environment, label: "agent-propose-test" });
    try {
      const agent = createAgentPolicy({
        client: createModelClient({ baseUrl: server!.baseUrl, model: "scripted" }),
        modelName: "scripted",
        limits: { maxTurns: 2 },
      });
      const outcome = await agent.propose({
        sandbox: viewOf(sandbox),
        environmentName: "inkwell",
        strategy: "removal",
        seed: 0,
        thresholds: validator.thresholds,
        validate: (candidate) => validator.validate(environment, candidate),
      });
      expect(policy.info.kind).toBe("openai");
      expect(outcome.status).toBe("failed");
      expect(outcome.episode.exitReason).toBe("max-turns");
      expect(outcome.episode.status).toBe("truncated");
    } finally {
      await sandbox.destroy();
    }
  });
});

describe("agent policy with a demonstrator in the model's place", () => {
  it("reports a plan with nothing to play as the proposer's failure, scope and all, without a turn", async () => {
    const demonstrator: Demonstrator = {
      solver: () => Promise.reject(new Error("not planned here")),
      proposer: (_request, artifactDir) =>
        Promise.resolve({
          client: {
            sampling: { model: "none", temperature: 0, top_p: 1 },
            tokenSource: "chat",
            complete: () => Promise.reject(new Error("no turn")),
          },
          summary: { artifactFound: false, artifactDir },
          failure: { reason: "no commit to revert", strategyUnavailable: true },
        }),
    };
    const policy = createAgentPolicy({ demonstrator, modelName: "builtin-demo" });
    expect(policy.info.kind).toBe("builtin-demo");
    const sandbox = await sandboxes.create({ environment, label: "test:demo-unplayed" });
    try {
      const outcome = await policy.propose({
        sandbox: viewOf(sandbox),
        environmentName: "inkwell",
        strategy: "history",
        seed: 1,
        thresholds: validator.thresholds,
        validate: (candidate) => validator.validate(environment, candidate),
      });
      expect(outcome).toMatchObject({
        status: "failed",
        reason: "no commit to revert",
        strategyUnavailable: true,
        episode: { policy: { kind: "builtin-demo" }, exitReason: "no-plan", samples: [] },
      });
      expect(outcome.episode.trajectory).toEqual([
        { kind: "result", demonstration: { artifactFound: false, artifactDir: "/tmp/artifact" } },
      ]);
    } finally {
      await sandbox.destroy();
    }
  });
});
