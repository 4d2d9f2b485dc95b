// Writes whole self-play steps into a store through the Store's own API (proposer episode, artifact,
// validation report, solver group, graded attempts with trajectories and token samples, rewards), with
// the text of every field under the caller's control: hostile payloads for the dashboard's escaping
// tests, many steps for its benchmark.
import { artifactId } from "../../src/artifact/index.js";
import type { BugArtifact, Strategy } from "../../src/ports/artifact.js";
import type { PolicyEpisode } from "../../src/ports/policy.js";
import type { RolloutSample } from "../../src/ports/rollout.js";
import type { GradeResult, ValidationReport } from "../../src/ports/validation.js";
import {
  type ArtifactId,
  attemptIdOf,
  type EpisodeId,
  type GroupId,
  type RunId,
  type Store,
} from "../../src/store/index.js";

export interface SyntheticStep {
  environment?: string;
  strategy?: string;
  verdict?: "valid" | "invalid";
  failedCheck?: ValidationReport["failedCheck"];
  /** Added lines of bug_inject.diff and the content of the weakening's removed test. */
  bugLine?: string;
  testName?: string;
  /** Test output and model text put into trajectories, grade reasons and test ids. */
  text?: string;
  groupSize?: number;
  /** How many attempts resolve. */
  resolved?: number;
  policyVersion?: string;
}

function episode(
  id: string,
  role: "proposer" | "solver",
  trajectory: unknown[],
  samples: RolloutSample[],
  version: string,
): PolicyEpisode {
  const now = new Date().toISOString();
  return {
    id,
    role,
    policy: { kind: "scripted", name: "synthetic", version },
    status: "completed",
    exitReason: "submitted",
    trajectory,
    samples,
    startedAt: now,
    endedAt: now,
    stats: { turns: trajectory.length, promptTokens: 12, completionTokens: 8 },
  };
}

function sample(id: string, version: string): RolloutSample {
  // Prompt of 6 tokens, then sampled 4, observed 3, sampled 2.
  const mask = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1];
  return {
    schema: "rollout.v1",
    sample_id: `${id}/sample-0`,
    group_id: "",
    episode_id: id,
    role: "solver",
    policy_version: version,
    sampling: { model: "synthetic", temperature: 1, top_p: 1 },
    tokens: mask.map((_, index) => 100 + index),
    prompt_len: 6,
    loss_mask: mask,
    logprobs: mask.map((value) => (value === 1 ? -0.5 : 0)),
    reward: null,
    status: "completed",
    meta: {},
  };
}

export function syntheticArtifact(options: {
  environment: string;
  strategy: string;
  bugLine: string;
  testName: string;
  index: number;
}): BugArtifact {
  return {
    testScript: "#!/bin/sh\npython3 -m pytest -rA tests\n",
    testFiles: ["tests/test_core.py"],
    testParser: "import json, sys\nprint(json.dumps({}))\n",
    bugInjectDiff: [
      "diff --git a/src/core.py b/src/core.py",
      "--- a/src/core.py",
      "+++ b/src/core.py",
      "@@ -1,3 +1,3 @@",
      " def value():",
      `-    return ${options.index}`,
      `+    ${options.bugLine}`,
      " # end",
      "",
    ].join("\n"),
    testWeakenDiff: [
      "diff --git a/tests/test_core.py b/tests/test_core.py",
      "--- a/tests/test_core.py",
      "+++ b/tests/test_core.py",
      "@@ -1,4 +1,2 @@",
      " from src.core import value",
      `-def ${options.testName}():`,
      `-    assert value() == ${options.index}`,
      " # end",
      "",
    ].join("\n"),
    meta: {
      environment: options.environment,
      strategy: options.strategy as Strategy,
      order: 1,
      parentId: null,
      policy: "synthetic",
      createdAt: new Date().toISOString(),
    },
  };
}

/** Writes one finished step and returns the ids a test follows. */
export function writeSyntheticStep(
  store: Store,
  runId: RunId,
  stepIndex: number,
  options: SyntheticStep = {},
): { artifactId: ArtifactId; proposerEpisode: EpisodeId; solverEpisodes: EpisodeId[] } {
  const environment = options.environment ?? "synthetic";
  const strategy = options.strategy ?? "removal";
  const text = options.text ?? "1 failed, 9 passed";
  const version = options.policyVersion ?? "v1";
  const groupSize = options.groupSize ?? 4;
  const resolvedCount = options.resolved ?? 1;
  const testId = `tests/test_core.py::${options.testName ?? `test_value_${stepIndex}`}`;
  const bugLine = options.bugLine ?? `return ${stepIndex + 1}`;
  const artifact = syntheticArtifact({
    environment,
    strategy,
    bugLine,
    testName: options.testName ?? `test_value_${stepIndex}`,
    index: stepIndex,
  });
  const id = artifactId(artifact) as ArtifactId;
  const proposerGroupId = `${runId}/step-${stepIndex}`;
  const proposerEpisode = `${proposerGroupId}/proposer` as EpisodeId;
  store.insertStep({ runId, stepIndex, environment, strategy, seed: stepIndex });
  store.startEpisode({ id: proposerEpisode, runId, role: "proposer", stepIndex });
  store.recordProposal({
    runId,
    stepIndex,
    episodeId: proposerEpisode,
    episode: episode(
      proposerEpisode,
      "proposer",
      [{ step: "run", command: "python3 -m pytest -rA tests", output: text, status: "ok" }],
      [],
      version,
    ),
    proposerGroupId,
    artifact: { id, artifact },
  });
  const verdict = options.verdict ?? "valid";
  const report: ValidationReport = {
    artifactId: id,
    verdict,
    failedCheck: verdict === "invalid" ? (options.failedCheck ?? "bug") : null,
    reason: verdict === "invalid" ? `no test fails with the bug: ${text}` : null,
    checks: [
      { check: "shape", verdict: "passed", reason: null, evidence: { bugFiles: ["src/core.py"] } },
      {
        check: "bug",
        verdict: verdict === "invalid" ? "failed" : "passed",
        reason: verdict === "invalid" ? text : null,
        evidence: { f2p: [testId], output: text },
      },
    ],
    f2p: [testId],
    p2p: ["tests/test_core.py::test_other"],
    flaky: [],
    fileContributions: [{ file: "src/core.py", restoredTests: [testId] }],
    testRuns: [
      { label: "baseline#1", status: "ok", durationMs: 1200, cached: false },
      { label: "bug", status: "ok", durationMs: 1100, cached: false },
    ],
    wallTimeMs: 2400,
    criticalPathMs: 2300,
  };
  const groupId = `${proposerGroupId}/group` as GroupId;
  const seeds = Array.from({ length: groupSize }, (_, index) => stepIndex * 100 + index);
  store.recordStepValidation({
    runId,
    stepIndex,
    environment,
    report,
    proposerGroupId,
    invalidReward: -1,
    group:
      verdict === "valid"
        ? { id: groupId, stepIndex, artifactId: id, environment, order: 1, attemptSeeds: seeds }
        : null,
  });
  if (verdict !== "valid") {
    store.completeStep(runId, stepIndex);
    return { artifactId: id, proposerEpisode, solverEpisodes: [] };
  }
  const solverEpisodes: EpisodeId[] = [];
  for (let index = 0; index < groupSize; index++) {
    const episodeId = `${groupId}/attempt-${index}/solver` as EpisodeId;
    solverEpisodes.push(episodeId);
    const resolved = index < resolvedCount;
    store.startEpisode({ id: episodeId, runId, role: "solver", stepIndex, groupId });
    const grade: GradeResult = {
      resolved,
      status: resolved ? "resolved" : "unresolved",
      reason: resolved ? null : `1 required test does not pass: ${text}`,
      failedF2P: resolved ? [] : [testId],
      failedP2P: [],
      durationMs: 900,
    };
    store.recordAttempt({
      runId,
      stepIndex,
      attemptId: attemptIdOf(groupId, index),
      groupId,
      episodeId,
      episode: episode(
        episodeId,
        "solver",
        [
          {
            turn: 1,
            content: `I will run the tests. ${text}`,
            toolCalls: [
              { id: "call-1", name: "bash", arguments: JSON.stringify({ command: "python3 -m pytest -q" }) },
            ],
            finishReason: "tool_calls",
            observations: [{ tool: "bash", status: "exited 1", output: text }],
            formatError: null,
            contextTokens: 15,
            modelMs: 10,
            toolMs: 20,
            overheadMs: 1,
          },
        ],
        [sample(episodeId, version)],
        version,
      ),
      patch: resolved
        ? `--- a/src/core.py\n+++ b/src/core.py\n@@ -1,3 +1,3 @@\n def value():\n-    ${bugLine}\n+    return ${stepIndex}\n # end\n`
        : `--- a/src/core.py\n+++ b/src/core.py\n@@ -1,3 +1,3 @@\n def value():\n-    ${bugLine}\n+    ${text.split("\n")[0]}\n # end\n`,
      grade,
    });
  }
  const solveRate = resolvedCount / groupSize;
  store.recordGroupGraded({
    runId,
    groupId,
    solveRate,
    rewards: [
      ...solverEpisodes.map((episodeId, index) => ({
        episodeId,
        role: "solver" as const,
        groupId,
        value: index < resolvedCount ? 1 : -1,
        reason: index < resolvedCount ? "resolved" : "unresolved",
      })),
      {
        episodeId: proposerEpisode,
        role: "proposer" as const,
        groupId: proposerGroupId,
        value: solveRate === 0 || solveRate === 1 ? -0.8 : 1 - 1.8 * solveRate,
        reason: `solve rate ${solveRate}`,
      },
    ],
  });
  store.completeStep(runId, stepIndex);
  return { artifactId: id, proposerEpisode, solverEpisodes };
}
