// Proposer steps of a run and their transitions: proposing → validating → solving → done, or failed;
// each transition is one transaction with the episode, artifact, report, group and reward it brings.
import { z } from "zod";
import type {
  ArtifactId,
  EpisodeId,
  Outcome,
  ProposalInput,
  RunId,
  StepDuplicateInput,
  StepRecord,
  StepState,
  StepStore,
  StepValidationInput,
} from "../ports/store.js";
import { insertArtifact, insertValidation } from "./artifacts.js";
import { finishEpisode } from "./episodes.js";
import { insertGroup, insertReward } from "./groups.js";
import { addedColumn, idColumn, outcomeColumn, rowParser, type Sql, timestamp } from "./sql.js";

const STEP_STATES = [
  "proposing",
  "validating",
  "solving",
  "done",
  "failed",
] as const satisfies readonly StepState[];

const toStep = rowParser(
  "steps",
  {
    run_id: idColumn<RunId>(),
    step_index: z.number(),
    environment: z.string(),
    strategy: z.string(),
    seed: z.number(),
    state: z.enum(STEP_STATES),
    outcome: outcomeColumn.nullable(),
    episode_id: idColumn<EpisodeId>().nullable(),
    artifact_id: idColumn<ArtifactId>().nullable(),
    error: z.string().nullable(),
    started_at: z.string(),
    ended_at: z.string().nullable(),
    duplicate_of: addedColumn(z.number()),
    duplicate_kind: addedColumn(z.enum(["identical", "semantic"])),
  },
  (row): StepRecord => ({
    runId: row.run_id,
    stepIndex: row.step_index,
    environment: row.environment,
    strategy: row.strategy,
    seed: row.seed,
    state: row.state,
    outcome: row.outcome satisfies Outcome | null,
    episodeId: row.episode_id,
    artifactId: row.artifact_id,
    error: row.error,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    duplicateOf: row.duplicate_of,
    duplicateKind: row.duplicate_kind,
  }),
);

const toCount = rowParser("steps", { n: z.number() }, (row) => row.n);

function getStep(sql: Sql, runId: RunId, stepIndex: number): StepRecord | null {
  const row = sql.prepare("SELECT * FROM steps WHERE run_id = ? AND step_index = ?").get(runId, stepIndex);
  return row ? toStep(row) : null;
}

export function stepTable(sql: Sql): StepStore {
  return {
    insertStep(step) {
      sql
        .prepare(
          `INSERT OR IGNORE INTO steps (run_id, step_index, environment, strategy, seed, state, started_at)
           VALUES (?, ?, ?, ?, ?, 'proposing', ?)`,
        )
        .run(step.runId, step.stepIndex, step.environment, step.strategy, step.seed, timestamp());
      return getStep(sql, step.runId, step.stepIndex)!;
    },
    getStep: (runId, stepIndex) => getStep(sql, runId, stepIndex),
    listSteps(runId) {
      return sql.prepare("SELECT * FROM steps WHERE run_id = ? ORDER BY step_index").all(runId).map(toStep);
    },
    stepCount(runId) {
      return toCount(sql.prepare("SELECT COUNT(*) AS n FROM steps WHERE run_id = ?").get(runId));
    },
    failStep(runId, stepIndex, error) {
      sql.transaction(() => {
        sql
          .prepare(
            "UPDATE steps SET state = 'failed', outcome = 'error', error = ?, ended_at = ? WHERE run_id = ? AND step_index = ? AND state NOT IN ('done', 'failed')",
          )
          .run(error, timestamp(), runId, stepIndex);
        sql
          .prepare(
            "UPDATE episodes SET state = 'aborted', status = 'aborted', exit_reason = 'step-failed', ended_at = ? WHERE run_id = ? AND step_index = ? AND state = 'running'",
          )
          .run(timestamp(), runId, stepIndex);
      });
    },
    completeStep(runId, stepIndex) {
      sql
        .prepare(
          "UPDATE steps SET state = 'done', ended_at = ? WHERE run_id = ? AND step_index = ? AND state NOT IN ('done', 'failed')",
        )
        .run(timestamp(), runId, stepIndex);
    },
    recordProposal: (input) => recordProposal(sql, input),
    recordStepValidation: (input) => recordStepValidation(sql, input),
    recordStepDuplicate: (input) => recordStepDuplicate(sql, input),
    markStepDuplicate(runId, stepIndex, duplicateOf, kind) {
      sql
        .prepare("UPDATE steps SET duplicate_of = ?, duplicate_kind = ? WHERE run_id = ? AND step_index = ?")
        .run(duplicateOf, kind, runId, stepIndex);
    },
  };
}

function recordProposal(sql: Sql, input: ProposalInput): void {
  sql.transaction(() => {
    finishEpisode(sql, input.episodeId, input.episode, {
      runId: input.runId,
      stepIndex: input.stepIndex,
      groupId: input.proposerGroupId,
      role: "proposer",
    });
    if (input.artifact) {
      insertArtifact(sql, input.artifact.id, input.artifact.artifact);
      sql
        .prepare(
          "UPDATE steps SET state = 'validating', episode_id = ?, artifact_id = ? WHERE run_id = ? AND step_index = ? AND state = 'proposing'",
        )
        .run(input.episodeId, input.artifact.id, input.runId, input.stepIndex);
      return;
    }
    sql
      .prepare(
        "UPDATE steps SET state = 'done', outcome = 'no-artifact', episode_id = ?, error = ?, ended_at = ? WHERE run_id = ? AND step_index = ? AND state = 'proposing'",
      )
      .run(input.episodeId, input.failure?.reason ?? null, timestamp(), input.runId, input.stepIndex);
    insertReward(sql, input.runId, {
      episodeId: input.episodeId,
      role: "proposer",
      groupId: input.proposerGroupId,
      value: input.failure?.reward ?? -1,
      reason: input.failure?.reason ?? "no artifact submitted",
    });
  });
}

function recordStepValidation(sql: Sql, input: StepValidationInput): void {
  sql.transaction(() => {
    insertValidation(sql, input.environment, input.report);
    const step = getStep(sql, input.runId, input.stepIndex);
    if (step?.state !== "validating") return;
    if (input.report.verdict === "invalid" || !input.group) {
      sql
        .prepare(
          "UPDATE steps SET state = 'done', outcome = 'invalid', error = ?, ended_at = ? WHERE run_id = ? AND step_index = ?",
        )
        .run(input.report.reason, timestamp(), input.runId, input.stepIndex);
      if (step.episodeId)
        insertReward(sql, input.runId, {
          episodeId: step.episodeId,
          role: "proposer",
          groupId: input.proposerGroupId,
          value: input.invalidReward,
          reason: `invalid: ${input.report.failedCheck ?? "unknown"}: ${input.report.reason ?? ""}`.trim(),
        });
      return;
    }
    insertGroup(sql, input.runId, input.group);
    sql
      .prepare("UPDATE steps SET state = 'solving', outcome = 'valid' WHERE run_id = ? AND step_index = ?")
      .run(input.runId, input.stepIndex);
  });
}

function recordStepDuplicate(sql: Sql, input: StepDuplicateInput): void {
  sql.transaction(() => {
    if (input.report) insertValidation(sql, input.environment, input.report);
    const step = getStep(sql, input.runId, input.stepIndex);
    if (step?.state !== "validating") return;
    sql
      .prepare(
        "UPDATE steps SET state = 'done', outcome = 'duplicate', duplicate_of = ?, duplicate_kind = ?, error = ?, ended_at = ? WHERE run_id = ? AND step_index = ?",
      )
      .run(input.duplicateOf, input.kind, input.reason, timestamp(), input.runId, input.stepIndex);
    if (step.episodeId)
      insertReward(sql, input.runId, {
        episodeId: step.episodeId,
        role: "proposer",
        groupId: input.proposerGroupId,
        value: input.reward,
        reason: input.reason,
      });
  });
}
