import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeFirstSchemaStore } from "../../test/support/first-schema-store.js";
import { makeTempDir } from "../../test/support/tmp.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { PolicyEpisode } from "../ports/policy.js";
import type { RolloutSample } from "../ports/rollout.js";
import type { GradeResult, ValidationReport } from "../ports/validation.js";
import { MIGRATIONS } from "./migrations.js";
import { attemptIdOf, openSqliteStore, type SqliteStore } from "./store.js";
import type { ArtifactId, EpisodeId, GroupId, RunId } from "./types.js";

const temps: { remove(): void }[] = [];
const stores: SqliteStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const temp of temps.splice(0)) temp.remove();
});

function freshStore(): { store: SqliteStore; path: string } {
  const temp = makeTempDir();
  temps.push(temp);
  const path = join(temp.path, "nested", "store.db");
  const store = openSqliteStore(path);
  stores.push(store);
  return { store, path };
}

const artifact: BugArtifact = {
  testScript: "python3 -m pytest -rA tests\n",
  testFiles: ["tests/test_a.py"],
  testParser: "print('{}')\n",
  bugInjectDiff: "diff --git a/a.py b/a.py\n",
  testWeakenDiff: "diff --git a/tests/test_a.py b/tests/test_a.py\n",
  meta: {
    environment: "fixture",
    strategy: "removal",
    order: 1,
    parentId: null,
    policy: "builtin@0.1.0",
    createdAt: "2026-01-01T00:00:00.000Z",
  },
};

function sample(id: string, episodeId: string): RolloutSample {
  return {
    schema: "rollout.v1",
    sample_id: id,
    group_id: "policy-side",
    episode_id: episodeId,
    role: "solver",
    policy_version: "v1",
    sampling: { model: "m", temperature: 1, top_p: 0.95 },
    tokens: [1, 2, 3],
    prompt_len: 1,
    loss_mask: [0, 1, 1],
    logprobs: [0, -0.5, -0.25],
    reward: null,
    status: "completed",
    meta: {},
  };
}

function episode(role: "proposer" | "solver", samples: RolloutSample[] = []): PolicyEpisode {
  return {
    id: "policy-episode",
    role,
    policy: { kind: "scripted", name: "test", version: "1" },
    status: "completed",
    exitReason: "submitted",
    trajectory: [{ step: 1 }],
    samples,
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:00:01.000Z",
    stats: { turns: 1 },
  };
}

function report(verdict: "valid" | "invalid"): ValidationReport {
  return {
    artifactId: "art-1",
    verdict,
    failedCheck: verdict === "valid" ? null : "bug",
    reason: verdict === "valid" ? null : "no test fails",
    checks: [],
    f2p: ["t1"],
    p2p: ["t2"],
    flaky: [],
    fileContributions: [],
    testRuns: [],
    wallTimeMs: 10,
    criticalPathMs: 5,
  };
}

function grade(resolved: boolean): GradeResult {
  return {
    resolved,
    status: resolved ? "resolved" : "unresolved",
    reason: null,
    failedF2P: resolved ? [] : ["t1"],
    failedP2P: [],
    durationMs: 3,
  };
}

describe("store", () => {
  it("opens with WAL, foreign keys and every migration applied, and reopens idempotently", () => {
    const { store, path } = freshStore();
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(store.db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(store.schemaVersion()).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version);
    store.createRun({ id: "run-1" as RunId, config: { a: 1 }, seed: 7 });
    store.close();
    const again = openSqliteStore(path);
    stores.push(again);
    expect(again.latestRun()).toMatchObject({ id: "run-1", status: "running", seed: 7, config: { a: 1 } });
  });

  it("rejects rows that break foreign keys", () => {
    const { store } = freshStore();
    expect(() =>
      store.insertStep({
        runId: "missing" as RunId,
        stepIndex: 0,
        environment: "e",
        strategy: "removal",
        seed: 1,
      }),
    ).toThrow(/FOREIGN KEY/);
  });

  it("records a full step once, with rewards reaching the rollout samples", () => {
    const { store } = freshStore();
    const runId = "run-1" as RunId;
    store.createRun({ id: runId, config: {}, seed: 1 });
    store.upsertEnvironment(runId, "fixture", { kind: "dir", path: "/x" });
    store.insertStep({ runId, stepIndex: 0, environment: "fixture", strategy: "removal", seed: 11 });
    // Inserting the same step again changes nothing.
    store.insertStep({ runId, stepIndex: 0, environment: "other", strategy: "history", seed: 99 });
    expect(store.getStep(runId, 0)).toMatchObject({ environment: "fixture", seed: 11, state: "proposing" });

    const proposerId = "ep-p" as EpisodeId;
    store.startEpisode({ id: proposerId, runId, role: "proposer", stepIndex: 0 });
    store.saveEpisodeProgress(proposerId, { ...episode("proposer"), trajectory: [1, 2] });
    expect(store.getEpisode(proposerId)).toMatchObject({
      state: "running",
      trajectory: [1, 2],
      conversation: null,
    });
    const conversation = {
      callFormat: "native",
      tools: [{ name: "bash", description: "Runs a command.", parameters: { type: "object" } }],
      toolsOffered: true,
      messages: [
        { role: "system" as const, content: "sys" },
        { role: "user" as const, content: "task" },
        {
          role: "assistant" as const,
          content: null,
          toolCalls: [{ id: "c1", name: "bash", arguments: "{}" }],
        },
        { role: "tool" as const, toolCallId: "c1", content: "out" },
      ],
      calls: [[{ id: "c1", name: "bash", arguments: "{}" }]],
    };
    store.saveEpisodeProgress(proposerId, { ...episode("proposer"), trajectory: [1, 2], conversation });
    expect(store.getEpisode(proposerId)?.conversation).toEqual(conversation);
    const artifactId = "art-1" as ArtifactId;
    const proposal = {
      runId,
      stepIndex: 0,
      episodeId: proposerId,
      episode: episode("proposer", [sample("s-p", "x")]),
      proposerGroupId: "run-1/step-0",
      artifact: { id: artifactId, artifact },
    };
    store.recordProposal(proposal);
    store.recordProposal(proposal);
    expect(store.getStep(runId, 0)).toMatchObject({ state: "validating", artifactId, episodeId: proposerId });
    expect(store.getArtifact(artifactId)?.artifact).toEqual(artifact);

    const groupId = "run-1/step-0/group" as GroupId;
    const validation = {
      runId,
      stepIndex: 0,
      environment: "fixture",
      report: report("valid"),
      proposerGroupId: "run-1/step-0",
      invalidReward: -1,
      group: {
        id: groupId,
        stepIndex: 0,
        artifactId,
        environment: "fixture",
        order: 1 as const,
        attemptSeeds: [5, 6],
      },
    };
    store.recordStepValidation(validation);
    store.recordStepValidation(validation);
    expect(store.getStep(runId, 0)?.state).toBe("solving");
    expect(store.listAttempts(groupId).map((attempt) => attempt.state)).toEqual(["pending", "pending"]);

    for (const index of [0, 1]) {
      const episodeId = `ep-s${index}` as EpisodeId;
      store.startEpisode({ id: episodeId, runId, role: "solver", stepIndex: 0, groupId });
      const attempt = {
        runId,
        stepIndex: 0,
        attemptId: attemptIdOf(groupId, index),
        groupId,
        episodeId,
        episode: episode("solver", [sample(`s-${index}`, episodeId)]),
        patch: `patch ${index}`,
        grade: grade(index === 0),
      };
      store.recordAttempt(attempt);
      store.recordAttempt({ ...attempt, patch: "overwritten?" });
    }
    expect(
      store.listAttempts(groupId).map((attempt) => [attempt.state, attempt.resolved, attempt.patch]),
    ).toEqual([
      ["done", true, "patch 0"],
      ["done", false, "patch 1"],
    ]);
    const graded = {
      runId,
      groupId,
      solveRate: 0.5,
      rewards: [
        {
          episodeId: proposerId,
          role: "proposer" as const,
          groupId: "run-1/step-0",
          value: 0.1,
          reason: "s=0.5",
        },
        { episodeId: "ep-s0" as EpisodeId, role: "solver" as const, groupId, value: 1, reason: "resolved" },
        {
          episodeId: "ep-s1" as EpisodeId,
          role: "solver" as const,
          groupId,
          value: -1,
          reason: "unresolved",
        },
      ],
    };
    store.recordGroupGraded(graded);
    store.recordGroupGraded({ ...graded, solveRate: 1 });
    expect(store.getGroup(groupId)).toMatchObject({ state: "graded", solveRate: 0.5 });
    expect(store.listRewards(runId)).toHaveLength(3);
    const samples = store.listSamples(runId, 0);
    expect(samples.map((record) => [record.sample_id, record.group_id, record.reward])).toEqual([
      ["s-p", "run-1/step-0", 0.1],
      ["s-0", groupId, 1],
      ["s-1", groupId, -1],
    ]);
    expect(samples[1]?.episode_id).toBe("ep-s0");
    store.completeStep(runId, 0);
    expect(store.getStep(runId, 0)?.state).toBe("done");
  });

  it("gives an invalid artifact's proposer -1 and marks episodes in flight as aborted", () => {
    const { store } = freshStore();
    const runId = "run-2" as RunId;
    store.createRun({ id: runId, config: {}, seed: 1 });
    store.insertStep({ runId, stepIndex: 0, environment: "fixture", strategy: "removal", seed: 1 });
    const proposerId = "ep-a" as EpisodeId;
    store.startEpisode({ id: proposerId, runId, role: "proposer", stepIndex: 0 });
    store.recordProposal({
      runId,
      stepIndex: 0,
      episodeId: proposerId,
      episode: episode("proposer"),
      proposerGroupId: "g",
      artifact: { id: "art-1" as ArtifactId, artifact },
    });
    store.recordStepValidation({
      runId,
      stepIndex: 0,
      environment: "fixture",
      report: report("invalid"),
      proposerGroupId: "g",
      invalidReward: -1,
      group: null,
    });
    expect(store.getStep(runId, 0)).toMatchObject({ state: "done", outcome: "invalid" });
    expect(store.listRewards(runId)).toMatchObject([{ episodeId: proposerId, value: -1 }]);

    store.insertStep({ runId, stepIndex: 1, environment: "fixture", strategy: "removal", seed: 2 });
    store.startEpisode({ id: "ep-b" as EpisodeId, runId, role: "proposer", stepIndex: 1 });
    expect(store.abortRunningEpisodes(runId, "interrupted")).toBe(1);
    expect(store.getEpisode("ep-b" as EpisodeId)).toMatchObject({
      state: "aborted",
      exitReason: "interrupted",
    });
  });

  it("disables an environment after consecutive failures and reactivates it on resume", () => {
    const { store } = freshStore();
    const runId = "run-3" as RunId;
    store.createRun({ id: runId, config: {}, seed: 1 });
    store.upsertEnvironment(runId, "broken", { kind: "image", image: "nope" });
    expect(store.recordEnvironmentFailure(runId, "broken", "engine down", 2)).toBe(false);
    expect(store.recordEnvironmentFailure(runId, "broken", "engine down", 2)).toBe(true);
    expect(store.listEnvironments(runId)[0]).toMatchObject({
      status: "disabled",
      disabledReason: "engine down",
    });
    store.reactivateEnvironments(runId);
    expect(store.listEnvironments(runId)[0]).toMatchObject({ status: "active", consecutiveFailures: 0 });
  });

  it("names the table, the column and the value of a row it cannot read", () => {
    const { store } = freshStore();
    const runId = "run-4" as RunId;
    store.createRun({ id: runId, config: {}, seed: 1 });
    store.insertStep({ runId, stepIndex: 0, environment: "fixture", strategy: "removal", seed: 3 });
    store.db.prepare("UPDATE runs SET config = '{not json' WHERE id = ?").run(runId);
    expect(() => store.getRun(runId)).toThrow(/store table runs, column config: not JSON.*\{not json/);
    store.db.prepare("UPDATE steps SET seed = 'three' WHERE run_id = ?").run(runId);
    expect(() => store.listSteps(runId)).toThrow(/store table steps, column seed: .*"three"/);
  });

  it("opens a store of the first schema: read-only as it is, then migrated with its rows kept", () => {
    const temp = makeTempDir();
    temps.push(temp);
    const path = join(temp.path, "schema-1.db");
    writeFirstSchemaStore(
      path,
      `INSERT INTO steps (run_id, step_index, environment, strategy, seed, state, outcome, started_at) VALUES ('run-old', 0, 'e', 'removal', 5, 'done', 'invalid', '2026-01-01T00:00:00Z');
       INSERT INTO episodes (id, run_id, role, step_index, state, started_at) VALUES ('ep-old', 'run-old', 'proposer', 0, 'finished', '2026-01-01T00:00:00Z');`,
    );
    const reader = openSqliteStore(path, { readonly: true });
    stores.push(reader);
    expect(reader.schemaVersion()).toBe(1);
    expect(reader.listSteps("run-old" as RunId)).toMatchObject([
      { seed: 5, outcome: "invalid", duplicateOf: null },
    ]);
    expect(reader.listTrainerIterations("run-old" as RunId)).toEqual([]);
    // An episode of the first schema has no conversation column: read as none kept.
    expect(reader.listEpisodes("run-old" as RunId)).toMatchObject([{ id: "ep-old", conversation: null }]);
    reader.close();
    const writer = openSqliteStore(path);
    stores.push(writer);
    expect(writer.schemaVersion()).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version);
    expect(writer.getStep("run-old" as RunId, 0)).toMatchObject({ state: "done", duplicateKind: null });
    expect(writer.getEpisode("ep-old" as EpisodeId)).toMatchObject({ conversation: null });
  });
});
