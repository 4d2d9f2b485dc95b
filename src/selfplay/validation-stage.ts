// The validation stage of a step: duplicates take the first artifact's verdict, the others are checked
// (under the validations semaphore) and a valid artifact opens the step's first solver group.
import { InfrastructureError } from "../errors.js";
import { createLogger } from "../log.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { ArtifactId, AttemptRecord, GroupId, NewGroup, StepRecord } from "../ports/store.js";
import type { ValidationReport } from "../ports/validation.js";
import { proposerReward } from "../validation/index.js";
import { duplicateReward } from "./dedupe.js";
import { deriveSeed } from "./seeds.js";
import {
  acquireOrThrow,
  environmentOf,
  proposerGroupId,
  type StepScope,
  throwIfInterrupted,
} from "./step-context.js";

const log = createLogger("selfplay");

export async function validationStage(scope: StepScope, step: StepRecord): Promise<void> {
  const stored = scope.store.getArtifact(step.artifactId!);
  if (!stored)
    throw new InfrastructureError("store-inconsistent", `step ${step.stepIndex}: artifact missing`);
  // One artifact, one task: an identical artifact takes the first one's verdict, without a second run.
  // A repair-only step is asked to solve that very artifact again.
  const claim = scope.repairOnly
    ? { status: "claimed" as const, settle: () => {} }
    : await scope.duplicates.identicalTo(stored.id, step.stepIndex);
  if (claim.status === "duplicate") {
    recordDuplicate(scope, step, null, claim.stepIndex, "identical", claim.verdict);
    return;
  }
  let report: ValidationReport;
  try {
    report = await validate(scope, step.environment, stored.artifact);
  } catch (error) {
    claim.settle(null);
    throw error;
  }
  claim.settle(report.verdict);
  const sameBug =
    report.verdict === "valid" && !scope.repairOnly
      ? scope.duplicates.claimSemantic(step.stepIndex, stored.artifact)
      : null;
  if (sameBug !== null && scope.config.duplicates.semantic === "skip") {
    recordDuplicate(scope, step, report, sameBug, "semantic", "valid");
    return;
  }
  const groupId = `${proposerGroupId(scope.runId, step.stepIndex)}/group` as GroupId;
  scope.store.recordStepValidation({
    runId: scope.runId,
    stepIndex: step.stepIndex,
    environment: step.environment,
    report,
    proposerGroupId: proposerGroupId(scope.runId, step.stepIndex),
    invalidReward: proposerReward({ valid: false }),
    group: report.verdict === "valid" ? newGroup(scope, groupId, step, stored.id, 1) : null,
  });
  if (sameBug !== null) {
    scope.store.markStepDuplicate(scope.runId, step.stepIndex, sameBug, "semantic");
    log.info("same bug as an earlier step: solved, proposer penalised", {
      step: step.stepIndex,
      duplicateOf: sameBug,
    });
  }
  scope.emit({
    type: "artifact-validated",
    stepIndex: step.stepIndex,
    artifactId: stored.id,
    order: 1,
    verdict: report.verdict,
    failedCheck: report.failedCheck,
    reason: report.reason,
  });
}

function recordDuplicate(
  scope: StepScope,
  step: StepRecord,
  report: ValidationReport | null,
  duplicateOf: number,
  kind: "identical" | "semantic",
  originalVerdict: ValidationReport["verdict"],
): void {
  const reward = duplicateRewardOf(scope, originalVerdict);
  const reason = `duplicate (${kind}) of step ${duplicateOf}'s ${originalVerdict} artifact`;
  scope.store.recordStepDuplicate({
    runId: scope.runId,
    stepIndex: step.stepIndex,
    environment: step.environment,
    report,
    proposerGroupId: proposerGroupId(scope.runId, step.stepIndex),
    duplicateOf,
    kind,
    reward,
    reason,
  });
  log.info("duplicate artifact: not solved again", { step: step.stepIndex, duplicateOf, kind, reward });
}

export function duplicateRewardOf(scope: StepScope, originalVerdict: ValidationReport["verdict"]): number {
  return duplicateReward({
    originalVerdict,
    configured: scope.config.duplicates.reward,
    alpha: scope.config.alpha,
    invalidReward: proposerReward({ valid: false }),
  });
}

/** Validates one artifact under the validations semaphore. */
export async function validate(
  scope: StepScope,
  environmentName: string,
  artifact: BugArtifact,
): Promise<ValidationReport> {
  const release = await acquireOrThrow(scope.stages.validations, scope.signal);
  try {
    const report = await scope.validator.validate(environmentOf(scope, environmentName), artifact, {
      abortSignal: scope.signal,
    });
    throwIfInterrupted(scope.signal, "during validation");
    return report;
  } finally {
    release();
  }
}

/** A solver group of the step's group size; seeds depend on the step and the group's place in it. */
export function newGroup(
  scope: StepScope,
  id: GroupId,
  step: StepRecord,
  artifactId: ArtifactId,
  order: 1 | 2,
  parent?: { groupId: GroupId; attemptId: AttemptRecord["id"] },
): NewGroup {
  const prefix = proposerGroupId(scope.runId, step.stepIndex);
  return {
    id,
    stepIndex: step.stepIndex,
    artifactId,
    environment: step.environment,
    order,
    ...(parent ? { parentGroupId: parent.groupId, sourceAttemptId: parent.attemptId } : {}),
    // Not the run id: a run is reproducible.
    attemptSeeds: Array.from({ length: scope.groupSize }, (_, index) =>
      deriveSeed(step.seed, id.slice(prefix.length), index),
    ),
  };
}
