// A finished step's result as the wire shows it: the artifact, its validation summary, the solve rate of
// its first solver group, the rollout.v1 samples with their rewards, and the episodes.
import type { RunId, ServiceStepRecord, Store } from "../store/index.js";
import { stepEpisodes } from "../store/index.js";
import type { StepResult, StepView } from "./schemas.js";

export function buildStepResult(store: Store, runId: RunId, stepIndex: number): StepResult {
  const step = store.getStep(runId, stepIndex);
  const report = step?.artifactId
    ? (store.getValidation(step.artifactId, step.environment)?.report ?? null)
    : null;
  const firstGroup = store.listGroups(runId, stepIndex).find((group) => group.order === 1);
  return {
    artifact_id: step?.artifactId ?? null,
    valid: report?.verdict === "valid",
    validation: {
      verdict: report?.verdict ?? null,
      failed_check: report?.failedCheck ?? null,
      reason: report?.reason ?? null,
      f2p: report?.f2p.length ?? 0,
      p2p: report?.p2p.length ?? 0,
      test_runs: report?.testRuns.length ?? 0,
    },
    solve_rate: firstGroup?.solveRate ?? null,
    samples: store.listSamples(runId, stepIndex) as unknown as Record<string, unknown>[],
    episodes: stepEpisodes(store, runId, stepIndex).map((episode) => ({
      episode_id: episode.episodeId,
      role: episode.role,
      status: episode.status,
      exit_reason: episode.exitReason,
      reward: episode.reward,
    })),
  };
}

/** The wire view of a stored service step. */
export function stepView(record: ServiceStepRecord): StepView {
  return {
    step_id: record.stepId,
    request_id: record.requestId,
    status: record.status,
    ...(record.reason ? { reason: record.reason } : {}),
    policy_version: record.policyVersion,
    ...(record.policyStep === null ? {} : { policy_step: record.policyStep }),
    ...(record.result ? { result: JSON.parse(record.result) as StepResult } : {}),
  };
}
