// No step is lost on a strategy an environment cannot serve: a repository without a commit to revert is
// probed once before its first step and never gets a history step (local sandboxes, real git).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConfiguredSelfPlay } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import { createLocalBackend } from "../../src/sandbox/index.js";
import { unservedStrategies } from "../../src/selfplay/environment-probe.js";
import { openStore } from "../../src/store/index.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { makeTempDir } from "../support/tmp.js";
import { createScriptedPolicy } from "./scripted-policy.js";

/** The fixture with its history squashed into one root commit: nothing to revert. */
async function makeRepoWithoutHistory(parent: string): Promise<string> {
  const repo = await makePythonFixtureRepo(parent);
  rmSync(join(repo, ".git"), { recursive: true, force: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", ...args], {
      cwd: repo,
      stdio: "ignore",
    });
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "one commit");
  return repo;
}

describe("strategies an environment cannot serve", { timeout: 600_000 }, () => {
  const temp = makeTempDir("swe-selfplay-history-probe-");
  let withHistory: string;
  let withoutHistory: string;

  beforeAll(async () => {
    withHistory = await makePythonFixtureRepo(join(temp.path, "with"));
    withoutHistory = await makeRepoWithoutHistory(join(temp.path, "without"));
  });
  afterAll(() => temp.remove());

  it("finds history unservable on a repository with one commit only", async () => {
    const backend = createLocalBackend();
    try {
      expect(await unservedStrategies(backend, { kind: "dir", path: withoutHistory })).toEqual(["history"]);
      expect(await unservedStrategies(backend, { kind: "dir", path: withHistory })).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it("schedules no history step there in a run of several steps, and still does where history exists", async () => {
    const config = parseConfig(
      {
        environments: [
          { name: "flat", path: withoutHistory },
          { name: "full", path: withHistory },
        ],
        strategies: { removal: 0.5, history: 0.5, direct: 0 },
        limits: { steps: 12 },
        concurrency: { proposers: 2 },
        store: join(temp.path, "store.db"),
        seed: 1,
      },
      "test",
    );
    // Every proposal gives up at once: the test is about which strategies the steps were given.
    const policy = createScriptedPolicy({ artifact: pythonFixtureArtifact(), failProposal: () => true });
    const store = openStore(config.store);
    try {
      const result = await runConfiguredSelfPlay(config, { store, policy });
      const steps = store.listSteps(result.runId);
      expect(steps).toHaveLength(12);
      const strategies = (environment: string) =>
        steps.filter((step) => step.environment === environment).map((step) => step.strategy);
      expect(strategies("flat")).toHaveLength(6);
      expect(strategies("flat")).not.toContain("history");
      expect(strategies("full")).toContain("history");
    } finally {
      store.close();
    }
  });
});
