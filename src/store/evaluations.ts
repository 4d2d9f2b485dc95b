// Evaluations: one row per evaluation of a policy on a frozen task set (keyed by set, policy and sampling),
// its tasks, and reads of its attempts, which are the solver attempts of the evaluation's own run (one
// repair-only step per task), joined with their episodes, so self-play's records are the only records.
import { z } from "zod";
import type { ArtifactId, RunId } from "./types.js";

/** The part of a store this module needs: its database handle and its transactions. */
interface Database {
  readonly db: import("better-sqlite3").Database;
  transaction<T>(work: () => T): T;
}

export type EvaluationStatus = "running" | "interrupted" | "failed" | "completed";

export interface EvaluationKey {
  taskSetId: string;
  policyKind: string;
  policyName: string;
  policyVersion: string;
  /** Canonical JSON of the sampling settings. */
  sampling: string;
  attempts: number;
}

export interface EvaluationRecord extends EvaluationKey {
  id: string;
  taskSetName: string;
  runId: RunId;
  status: EvaluationStatus;
  error: string | null;
  /** The figures as JSON, once the evaluation completed. */
  figures: unknown;
  createdAt: string;
  updatedAt: string;
}

export interface EvaluationTaskRow {
  taskIndex: number;
  artifactId: ArtifactId;
  environment: string;
  strategy: string;
}

/** One finished attempt of an evaluation, with what its figures read from the attempt and its episode. */
export interface EvaluationAttemptRow extends EvaluationTaskRow {
  attemptIndex: number;
  resolved: boolean;
  gradeStatus: string;
  gradeMs: number;
  episodeId: string | null;
  exitReason: string | null;
  stats: Record<string, number>;
  trajectory: unknown[];
  startedAt: string | null;
  endedAt: string | null;
  /** Tokens the policy sampled in the episode (loss-mask ones over its rollout samples). */
  sampledTokens: number;
}

const evaluationRow = z.object({
  id: z.string(),
  task_set_id: z.string(),
  task_set_name: z.string(),
  policy_kind: z.string(),
  policy_name: z.string(),
  policy_version: z.string(),
  sampling: z.string(),
  attempts: z.number().int(),
  run_id: z.string(),
  status: z.enum(["running", "interrupted", "failed", "completed"]),
  error: z.string().nullable(),
  figures: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

function toEvaluation(row: unknown): EvaluationRecord {
  const parsed = evaluationRow.parse(row);
  return {
    id: parsed.id,
    taskSetId: parsed.task_set_id,
    taskSetName: parsed.task_set_name,
    policyKind: parsed.policy_kind,
    policyName: parsed.policy_name,
    policyVersion: parsed.policy_version,
    sampling: parsed.sampling,
    attempts: parsed.attempts,
    runId: parsed.run_id as RunId,
    status: parsed.status,
    error: parsed.error,
    figures: parsed.figures === null ? null : JSON.parse(parsed.figures),
    createdAt: parsed.created_at,
    updatedAt: parsed.updated_at,
  };
}

export interface NewEvaluation extends EvaluationKey {
  id: string;
  taskSetName: string;
  runId: RunId;
  tasks: readonly EvaluationTaskRow[];
}

/** Stores a new evaluation with its tasks (its run must exist). */
export function insertEvaluation(store: Database, evaluation: NewEvaluation): EvaluationRecord {
  const now = new Date().toISOString();
  return store.transaction(() => {
    store.db
      .prepare(
        `INSERT INTO evaluations (id, task_set_id, task_set_name, policy_kind, policy_name, policy_version,
           sampling, attempts, run_id, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
      )
      .run(
        evaluation.id,
        evaluation.taskSetId,
        evaluation.taskSetName,
        evaluation.policyKind,
        evaluation.policyName,
        evaluation.policyVersion,
        evaluation.sampling,
        evaluation.attempts,
        evaluation.runId,
        now,
        now,
      );
    const insertTask = store.db.prepare(
      "INSERT INTO evaluation_tasks (evaluation_id, task_index, artifact_id, environment, strategy) VALUES (?, ?, ?, ?, ?)",
    );
    for (const task of evaluation.tasks)
      insertTask.run(evaluation.id, task.taskIndex, task.artifactId, task.environment, task.strategy);
    return getEvaluation(store, evaluation.id)!;
  });
}

export function getEvaluation(store: Database, id: string): EvaluationRecord | null {
  if (!hasEvaluations(store)) return null;
  const row = store.db.prepare("SELECT * FROM evaluations WHERE id = ?").get(id);
  return row ? toEvaluation(row) : null;
}

/** Every evaluation, oldest first; a store of an older schema has none. */
export function listEvaluations(store: Database): EvaluationRecord[] {
  if (!hasEvaluations(store)) return [];
  return store.db.prepare("SELECT * FROM evaluations ORDER BY created_at, id").all().map(toEvaluation);
}

export function setEvaluationStatus(
  store: Database,
  id: string,
  status: EvaluationStatus,
  end: { error?: string | null; figures?: unknown } = {},
): void {
  store.db
    .prepare("UPDATE evaluations SET status = ?, error = ?, figures = ?, updated_at = ? WHERE id = ?")
    .run(
      status,
      end.error ?? null,
      end.figures === undefined ? null : JSON.stringify(end.figures),
      new Date().toISOString(),
      id,
    );
}

export function evaluationTasks(store: Database, id: string): EvaluationTaskRow[] {
  const rows = store.db
    .prepare(
      "SELECT task_index, artifact_id, environment, strategy FROM evaluation_tasks WHERE evaluation_id = ? ORDER BY task_index",
    )
    .all(id) as { task_index: number; artifact_id: string; environment: string; strategy: string }[];
  return rows.map((row) => ({
    taskIndex: row.task_index,
    artifactId: row.artifact_id as ArtifactId,
    environment: row.environment,
    strategy: row.strategy,
  }));
}

/** The finished attempts of an evaluation, by task and attempt index. */
export function evaluationAttempts(store: Database, id: string): EvaluationAttemptRow[] {
  const rows = store.db
    .prepare(
      `SELECT t.task_index, t.artifact_id, t.environment, t.strategy, a.attempt_index, a.resolved, a.grade,
              e.id AS episode_id, e.exit_reason, e.stats, e.trajectory, e.started_at, e.ended_at,
              (SELECT COUNT(*) FROM rollout_samples s, json_each(s.record, '$.loss_mask') m
                WHERE s.episode_id = e.id AND m.value = 1) AS sampled_tokens
       FROM evaluations v
       JOIN evaluation_tasks t ON t.evaluation_id = v.id
       JOIN solver_groups g ON g.run_id = v.run_id AND g.step_index = t.task_index AND g.order_number = 1
       JOIN solver_attempts a ON a.group_id = g.id AND a.state = 'done'
       LEFT JOIN episodes e ON e.id = a.episode_id
       WHERE v.id = ? ORDER BY t.task_index, a.attempt_index`,
    )
    .all(id) as {
    task_index: number;
    artifact_id: string;
    environment: string;
    strategy: string;
    attempt_index: number;
    resolved: number | null;
    grade: string | null;
    episode_id: string | null;
    exit_reason: string | null;
    stats: string | null;
    trajectory: string | null;
    started_at: string | null;
    ended_at: string | null;
    sampled_tokens: number;
  }[];
  return rows.map((row) => {
    const grade = row.grade ? (JSON.parse(row.grade) as { status?: string; durationMs?: number }) : {};
    return {
      taskIndex: row.task_index,
      artifactId: row.artifact_id as ArtifactId,
      environment: row.environment,
      strategy: row.strategy,
      attemptIndex: row.attempt_index,
      resolved: row.resolved === 1,
      gradeStatus: grade.status ?? "unresolved",
      gradeMs: grade.durationMs ?? 0,
      episodeId: row.episode_id,
      exitReason: row.exit_reason,
      stats: row.stats ? (JSON.parse(row.stats) as Record<string, number>) : {},
      trajectory: row.trajectory ? (JSON.parse(row.trajectory) as unknown[]) : [],
      startedAt: row.started_at,
      endedAt: row.ended_at,
      sampledTokens: row.sampled_tokens,
    };
  });
}

/** Attempts of an evaluation: how many exist and how many are done. */
export function evaluationProgress(store: Database, id: string): { done: number; total: number } {
  const row = store.db
    .prepare(
      `SELECT COUNT(a.id) AS total, COALESCE(SUM(a.state = 'done'), 0) AS done
       FROM evaluations v
       JOIN solver_groups g ON g.run_id = v.run_id AND g.order_number = 1
       JOIN solver_attempts a ON a.group_id = g.id
       WHERE v.id = ?`,
    )
    .get(id) as { total: number; done: number };
  return { done: row.done, total: row.total };
}

/**
 * Steps of a run that failed (infrastructure, e.g. a model server that went away) go back to where they
 * stopped, so a resumed evaluation runs their pending attempts; their finished attempts stay as they are.
 */
export function reopenFailedSteps(store: Database, runId: RunId): number {
  return store.db
    .prepare(
      `UPDATE steps SET
         state = CASE WHEN EXISTS (SELECT 1 FROM solver_groups g WHERE g.run_id = steps.run_id
                   AND g.step_index = steps.step_index AND g.order_number = 1) THEN 'solving' ELSE 'validating' END,
         outcome = CASE WHEN EXISTS (SELECT 1 FROM solver_groups g WHERE g.run_id = steps.run_id
                   AND g.step_index = steps.step_index AND g.order_number = 1) THEN 'valid' ELSE NULL END,
         error = NULL, ended_at = NULL
       WHERE run_id = ? AND state = 'failed'`,
    )
    .run(runId).changes;
}

/** Valid artifacts of a store on the environment they were validated on, with their mean solve rate. */
export function validArtifactRows(
  store: Database,
): { artifactId: ArtifactId; environment: string; solveRate: number | null }[] {
  const rows = store.db
    .prepare(
      `SELECT v.artifact_id, v.environment,
              (SELECT AVG(g.solve_rate) FROM solver_groups g
                WHERE g.artifact_id = v.artifact_id AND g.environment = v.environment AND g.state = 'graded'
                  AND g.run_id NOT IN (SELECT run_id FROM evaluations)) AS solve_rate
       FROM validation_reports v WHERE v.verdict = 'valid' ORDER BY v.created_at, v.artifact_id`,
    )
    .all() as { artifact_id: string; environment: string; solve_rate: number | null }[];
  return rows.map((row) => ({
    artifactId: row.artifact_id as ArtifactId,
    environment: row.environment,
    solveRate: row.solve_rate,
  }));
}

function hasEvaluations(store: Database): boolean {
  return (
    store.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'evaluations'").get() !==
    undefined
  );
}
