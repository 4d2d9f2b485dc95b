// Second-order candidates of a graded first-order group: each failed attempt's patch, applied over the
// bug, may make a new bug; it is validated like a proposal and, if valid, gets its own solver group.
import { artifactId as contentId } from "../artifact/index.js";
import { errorMessage, InfrastructureError } from "../errors.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { ArtifactId, CandidateRecord, GroupId, GroupRecord, StepRecord } from "../store/index.js";
import { makeSecondOrderArtifact } from "../validation/index.js";
import { acquireOrThrow, environmentOf, type StepScope, throwIfInterrupted } from "./step-context.js";
import { newGroup, validate } from "./validation-stage.js";

type RunGroup = (scope: StepScope, group: GroupRecord, step: StepRecord) => Promise<void>;

/** Makes (or resumes) the candidates of a first-order group; `runGroup` solves the valid ones. */
export async function secondOrderOf(
  scope: StepScope,
  group: GroupRecord,
  parent: BugArtifact,
  step: StepRecord,
  runGroup: RunGroup,
): Promise<void> {
  const settings = scope.config.secondOrder;
  if (scope.repairOnly || group.order !== 1 || !settings.enabled || settings.maxPerGroup <= 0) return;
  let candidates = scope.store.listCandidates(group.id);
  if (candidates.length === 0) {
    const failed = scope.store
      .listAttempts(group.id)
      .filter((attempt) => attempt.resolved === false && (attempt.patch ?? "").trim() !== "")
      .slice(0, settings.maxPerGroup)
      .map((attempt) => attempt.id);
    if (failed.length === 0) return;
    candidates = scope.store.insertCandidates(group.id, failed);
  }
  for (const candidate of candidates) await runCandidate(scope, candidate, group, parent, step, runGroup);
}

async function runCandidate(
  scope: StepScope,
  initial: CandidateRecord,
  parentGroup: GroupRecord,
  parent: BugArtifact,
  step: StepRecord,
  runGroup: RunGroup,
): Promise<void> {
  let candidate: CandidateRecord | null = initial;
  if (candidate.state === "pending")
    candidate = await makeCandidate(scope, candidate, parentGroup, parent, step);
  if (candidate?.state === "validating")
    candidate = await validateCandidate(scope, candidate, parentGroup, step);
  if (candidate?.childGroupId) {
    const child = scope.store.getGroup(candidate.childGroupId);
    if (child) await runGroup(scope, child, step);
  }
}

/** The candidate's artifact from the failed patch; null when the candidate ended without one. */
async function makeCandidate(
  scope: StepScope,
  candidate: CandidateRecord,
  parentGroup: GroupRecord,
  parent: BugArtifact,
  step: StepRecord,
): Promise<CandidateRecord | null> {
  const attempt = scope.store.listAttempts(parentGroup.id).find((entry) => entry.id === candidate.attemptId)!;
  const release = await acquireOrThrow(scope.stages.validations, scope.signal);
  let made: BugArtifact | null;
  try {
    made = await makeSecondOrderArtifact({
      sandboxes: scope.sandboxes,
      environment: environmentOf(scope, parentGroup.environment),
      parent,
      failedPatch: attempt.patch ?? "",
    });
  } catch (error) {
    if (scope.signal.aborted || error instanceof InfrastructureError) throw error;
    // A patch that cannot become a bug (malformed, conflicting) ends this candidate, not the step.
    skipCandidate(scope, candidate, "error", `cannot make a second-order bug: ${errorMessage(error)}`, step);
    return null;
  } finally {
    release();
  }
  throwIfInterrupted(scope.signal, "making a second-order bug");
  if (!made) {
    skipCandidate(scope, candidate, "no-artifact", "the failed patch makes no new bug", step);
    return null;
  }
  const id = contentId(made) as ArtifactId;
  scope.store.recordCandidateArtifact(candidate.id, id, {
    ...made,
    meta: { ...made.meta, order: 2, parentId: parentGroup.artifactId, environment: parentGroup.environment },
  });
  scope.emit({
    type: "second-order-made",
    stepIndex: step.stepIndex,
    groupId: parentGroup.id,
    artifactId: id,
  });
  return scope.store.listCandidates(parentGroup.id).find((entry) => entry.id === candidate.id)!;
}

async function validateCandidate(
  scope: StepScope,
  candidate: CandidateRecord,
  parentGroup: GroupRecord,
  step: StepRecord,
): Promise<CandidateRecord | null> {
  // One artifact, one task: two failed attempts that made the same second-order bug make one group.
  const artifactId = candidate.artifactId!;
  if (
    scope.secondOrderClaims.has(artifactId) ||
    scope.store.listGroups(scope.runId).some((group) => group.artifactId === artifactId)
  ) {
    const reason = `the same artifact as an earlier one of the run (${artifactId.slice(0, 12)}): not solved twice`;
    skipCandidate(scope, candidate, "no-artifact", reason, step);
    return null;
  }
  scope.secondOrderClaims.add(artifactId);
  const stored = scope.store.getArtifact(artifactId)!;
  const report = await validate(scope, parentGroup.environment, stored.artifact);
  const childId = `${candidate.id}/group` as GroupId;
  scope.store.recordCandidateValidation({
    runId: scope.runId,
    candidateId: candidate.id,
    environment: parentGroup.environment,
    report,
    group:
      report.verdict === "valid"
        ? newGroup(scope, childId, step, stored.id, 2, {
            groupId: parentGroup.id,
            attemptId: candidate.attemptId,
          })
        : null,
  });
  scope.emit({
    type: "artifact-validated",
    stepIndex: step.stepIndex,
    artifactId: stored.id,
    order: 2,
    verdict: report.verdict,
    failedCheck: report.failedCheck,
    reason: report.reason,
  });
  return scope.store.listCandidates(parentGroup.id).find((entry) => entry.id === candidate.id)!;
}

/** Ends a second-order candidate without a group. */
function skipCandidate(
  scope: StepScope,
  candidate: CandidateRecord,
  outcome: "error" | "no-artifact",
  reason: string,
  step: StepRecord,
): void {
  scope.store.recordCandidateEnded(candidate.id, outcome, reason);
  scope.emit({ type: "second-order-skipped", stepIndex: step.stepIndex, groupId: candidate.groupId, reason });
}
