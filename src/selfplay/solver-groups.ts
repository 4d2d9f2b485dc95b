// Solver groups: G attempts on a valid artifact (each in its own solver-task sandbox, graded against the
// oracle), then the group's solve rate and the rewards of its solvers and of the step's proposer.
import { errorMessage, InfrastructureError } from "../errors.js";
import { createLogger } from "../log.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { PolicyEpisode } from "../ports/policy.js";
import { viewOf } from "../ports/sandbox.js";
import type { GradeResult, ValidationReport } from "../ports/validation.js";
import type { AttemptRecord, GroupRecord, RewardInput, StepRecord } from "../store/index.js";
import { createSolverTask, grade, proposerReward, solverReward } from "../validation/index.js";
import { holdingSandbox } from "./sandbox-limit.js";
import { secondOrderOf } from "./second-order.js";
import {
  acquireOrThrow,
  environmentOf,
  failedEpisode,
  newEpisodeId,
  proposerGroupId,
  type StepScope,
  throwIfInterrupted,
} from "./step-context.js";
import { duplicateRewardOf } from "./validation-stage.js";

const log = createLogger("selfplay");

/** Runs a group from whatever state the store holds, then its second-order candidates. */
export async function runGroup(scope: StepScope, initial: GroupRecord, step: StepRecord): Promise<void> {
  let group = initial;
  const stored = scope.store.getArtifact(group.artifactId)!;
  const report = scope.store.getValidation(group.artifactId, group.environment)?.report;
  if (!report)
    throw new InfrastructureError("store-inconsistent", `group ${group.id}: validation report missing`);
  if (group.state === "solving") {
    const pending = scope.store.listAttempts(group.id).filter((attempt) => attempt.state === "pending");
    const results = await Promise.allSettled(
      pending.map((attempt) => runAttempt(scope, group, attempt, stored.artifact, report)),
    );
    throwIfInterrupted(scope.signal, "during solving");
    const failure = results.find((result) => result.status === "rejected");
    if (failure) throw (failure as PromiseRejectedResult).reason;
    gradeGroup(scope, group, step);
    group = scope.store.getGroup(group.id)!;
  }
  await secondOrderOf(scope, group, stored.artifact, step, runGroup);
}

async function runAttempt(
  scope: StepScope,
  group: GroupRecord,
  attempt: AttemptRecord,
  artifact: BugArtifact,
  report: ValidationReport,
): Promise<void> {
  const release = await acquireOrThrow(scope.stages.solvers, scope.signal);
  try {
    const episodeId = newEpisodeId(`${attempt.id}/solver`);
    scope.store.startEpisode({
      id: episodeId,
      runId: scope.runId,
      role: "solver",
      stepIndex: group.stepIndex,
      groupId: group.id,
    });
    const { patch, episode, crashed } = await solveInTask(scope, group, attempt, artifact, episodeId);
    throwIfInterrupted(scope.signal, "during solving");
    const result: GradeResult = crashed
      ? {
          resolved: false,
          status: "unresolved",
          reason: `solver episode failed: ${crashed}`,
          failedF2P: report.f2p,
          failedP2P: [],
          durationMs: 0,
        }
      : await grade({
          sandboxes: scope.sandboxes,
          environment: environmentOf(scope, group.environment),
          artifact,
          report,
          patch,
          timeoutMs: scope.config.thresholds.testTimeoutMs,
          abortSignal: scope.signal,
        });
    throwIfInterrupted(scope.signal, "during grading");
    scope.store.recordAttempt({
      runId: scope.runId,
      stepIndex: group.stepIndex,
      attemptId: attempt.id,
      groupId: group.id,
      episodeId,
      episode,
      patch,
      grade: result,
    });
    scope.emit({
      type: "attempt-graded",
      stepIndex: group.stepIndex,
      groupId: group.id,
      attemptIndex: attempt.attemptIndex,
      resolved: result.resolved,
      status: result.status,
    });
  } finally {
    release();
  }
}

/** One solver episode in a fresh solver-task sandbox; a crashing policy gives an empty patch and its reason. */
async function solveInTask(
  scope: StepScope,
  group: GroupRecord,
  attempt: AttemptRecord,
  artifact: BugArtifact,
  episodeId: ReturnType<typeof newEpisodeId>,
): Promise<{ patch: string; episode: PolicyEpisode; crashed: string | null }> {
  const signal = AbortSignal.any([scope.signal, AbortSignal.timeout(scope.config.limits.solverTimeoutMs)]);
  const task = await createSolverTask({
    sandboxes: scope.sandboxes,
    environment: environmentOf(scope, group.environment),
    artifact,
    label: `solve:${attempt.id}`,
  });
  try {
    const outcome = await holdingSandbox(() =>
      scope.solver.solve({
        sandbox: viewOf(task.sandbox),
        specification: task.specification,
        prompt: task.prompt,
        seed: attempt.seed,
        abortSignal: signal,
        onStep: (progress) => scope.store.saveEpisodeProgress(episodeId, progress),
      }),
    );
    return { patch: outcome.patch, episode: outcome.episode, crashed: null };
  } catch (error) {
    if (scope.signal.aborted || error instanceof InfrastructureError) throw error;
    return { patch: "", episode: failedEpisode("solver", scope.solver, error), crashed: errorMessage(error) };
  } finally {
    await task.sandbox
      .destroy()
      .catch((error: unknown) => log.warn("sandbox destroy failed", { error: errorMessage(error) }));
  }
}

function gradeGroup(scope: StepScope, group: GroupRecord, step: StepRecord): void {
  const attempts = scope.store.listAttempts(group.id);
  const rate = attempts.filter((attempt) => attempt.resolved).length / attempts.length;
  const rewards: RewardInput[] = attempts.map((attempt) => ({
    episodeId: attempt.episodeId!,
    role: "solver",
    groupId: group.id,
    value: solverReward(attempt.resolved === true),
    reason: attempt.grade?.status ?? "unresolved",
  }));
  let proposerValue: number | null = null;
  if (group.order === 1 && step.episodeId) {
    // A bug an earlier step already made (penalised semantic duplicate) earns the duplicate reward.
    const current = scope.store.getStep(scope.runId, step.stepIndex) ?? step;
    const duplicate = current.duplicateOf !== null;
    proposerValue = duplicate
      ? duplicateRewardOf(scope, "valid")
      : proposerReward({ valid: true, solveRate: rate, alpha: scope.config.alpha });
    rewards.push({
      episodeId: step.episodeId,
      role: "proposer",
      groupId: proposerGroupId(scope.runId, step.stepIndex),
      value: proposerValue,
      reason: duplicate
        ? `valid, solve rate ${rate.toFixed(3)}, but the same bug as step ${current.duplicateOf}`
        : `valid, solve rate ${rate.toFixed(3)}`,
    });
  }
  scope.store.recordGroupGraded({ runId: scope.runId, groupId: group.id, solveRate: rate, rewards });
  scope.emit({
    type: "group-graded",
    stepIndex: group.stepIndex,
    groupId: group.id,
    order: group.order,
    solveRate: rate,
    proposerReward: proposerValue,
  });
}
