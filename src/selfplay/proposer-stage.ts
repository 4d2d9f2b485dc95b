// The proposer stage of a step: one proposer episode in a fresh sandbox, its artifact (or typed failure)
// recorded with the episode, and the early stop of an environment whose first steps all fail alike.
import { artifactId as contentId } from "../artifact/index.js";
import { errorMessage, InfrastructureError } from "../errors.js";
import { createLogger } from "../log.js";
import type { BugArtifact, Strategy } from "../ports/artifact.js";
import type { Policy } from "../ports/policy.js";
import { viewOf } from "../ports/sandbox.js";
import type { ArtifactId, StepRecord } from "../ports/store.js";
import { proposerReward } from "../validation/index.js";
import { holdingSandbox } from "./sandbox-limit.js";
import {
  acquireOrThrow,
  environmentOf,
  failedEpisode,
  newEpisodeId,
  proposerGroupId,
  type StepScope,
  throwIfInterrupted,
} from "./step-context.js";
import { UNAVAILABLE_PREFIX } from "./strategy-weights.js";

const log = createLogger("selfplay");

type ProposeResult = Awaited<ReturnType<Policy["propose"]>>;

export async function proposerStage(scope: StepScope, step: StepRecord): Promise<void> {
  const release = await acquireOrThrow(scope.stages.proposers, scope.signal);
  try {
    const episodeId = newEpisodeId(`${proposerGroupId(scope.runId, step.stepIndex)}/proposer`);
    scope.store.startEpisode({
      id: episodeId,
      runId: scope.runId,
      role: "proposer",
      stepIndex: step.stepIndex,
    });
    const outcome = await proposeInSandbox(scope, step, episodeId);
    throwIfInterrupted(scope.signal, "during proposal");
    recordOutcome(scope, step, episodeId, outcome);
    noteProposal(
      scope,
      step.environment,
      outcome.status === "failed" && outcome.scope === "environment" ? outcome.reason : null,
    );
  } finally {
    release();
  }
}

async function proposeInSandbox(
  scope: StepScope,
  step: StepRecord,
  episodeId: ReturnType<typeof newEpisodeId>,
): Promise<ProposeResult> {
  const environment = environmentOf(scope, step.environment);
  const signal = AbortSignal.any([scope.signal, AbortSignal.timeout(scope.config.limits.proposerTimeoutMs)]);
  const sandbox = await scope.sandboxes.create({
    environment,
    label: `propose:step-${step.stepIndex}`,
    limits: scope.config.sandbox,
  });
  try {
    return await holdingSandbox(() =>
      scope.proposer.propose({
        sandbox: viewOf(sandbox),
        environmentName: step.environment,
        strategy: step.strategy as Strategy,
        ...(scope.config.difficulty === "any" ? {} : { difficulty: scope.config.difficulty }),
        seed: step.seed,
        thresholds: scope.validator.thresholds,
        validate: (artifact) => scope.validator.validate(environment, artifact, { abortSignal: signal }),
        abortSignal: signal,
        onStep: (episode) => scope.store.saveEpisodeProgress(episodeId, episode),
      }),
    ).catch((error: unknown) => {
      if (scope.signal.aborted || error instanceof InfrastructureError) throw error;
      // A policy that crashes is a failed episode, not a broken run.
      return {
        status: "failed" as const,
        reason: `policy error: ${errorMessage(error)}`,
        episode: failedEpisode("proposer", scope.proposer, error),
      };
    });
  } finally {
    await sandbox
      .destroy()
      .catch((error: unknown) => log.warn("sandbox destroy failed", { error: errorMessage(error) }));
  }
}

function recordOutcome(
  scope: StepScope,
  step: StepRecord,
  episodeId: ReturnType<typeof newEpisodeId>,
  outcome: ProposeResult,
): void {
  const common = {
    runId: scope.runId,
    stepIndex: step.stepIndex,
    episodeId,
    episode: outcome.episode,
    proposerGroupId: proposerGroupId(scope.runId, step.stepIndex),
  };
  if (outcome.status === "submitted") {
    const artifact: BugArtifact = {
      ...outcome.artifact,
      meta: {
        ...outcome.artifact.meta,
        environment: step.environment,
        strategy: step.strategy as Strategy,
        order: 1,
        parentId: null,
        seed: step.seed,
      },
    };
    const id = contentId(artifact) as ArtifactId;
    scope.store.recordProposal({ ...common, artifact: { id, artifact } });
    scope.emit({ type: "artifact-proposed", stepIndex: step.stepIndex, artifactId: id });
    return;
  }
  scope.store.recordProposal({
    ...common,
    artifact: null,
    failure: {
      reward: proposerReward({ valid: false }),
      reason: outcome.strategyUnavailable ? `${UNAVAILABLE_PREFIX}${outcome.reason}` : outcome.reason,
    },
  });
  scope.emit({ type: "proposal-failed", stepIndex: step.stepIndex, reason: outcome.reason });
}

/** Takes an environment out when its first steps all failed for the same environment-level reason. */
function noteProposal(scope: StepScope, environment: string, environmentFailure: string | null): void {
  const reason = scope.earlyStop.record(environment, environmentFailure);
  if (reason === null) return;
  const steps = scope.config.limits.earlyStopSteps;
  log.warn("environment taken out: its first steps all failed for the same reason", {
    environment,
    steps,
    reason,
  });
  scope.store.disableEnvironment(scope.runId, environment, reason);
  scope.emit({ type: "environment-disabled", environment, reason });
}
