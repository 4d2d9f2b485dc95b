// Read-only queries of the Evaluations pages: every evaluation with its progress and figures, grouped by task
// set; one evaluation's attempts with their grades and episodes (no trajectories read).
import type { SqliteStore } from "../../store/index.js";
import { type EvaluationRecord, evaluationProgress, listEvaluations } from "../../store/index.js";

export interface EvaluationFiguresView {
  resolved: number;
  attempts: number;
  resolveRate: number;
  interval: { low: number; high: number };
  passAtK: Record<string, number>;
}

export interface EvaluationRow {
  evaluation: EvaluationRecord;
  done: number;
  total: number;
  figures: EvaluationFiguresView | null;
}

export interface TaskSetEvaluations {
  taskSetId: string;
  taskSetName: string;
  rows: EvaluationRow[];
}

/** Evaluations grouped by task set (sets in order of their first evaluation), oldest first in each. */
export function evaluationsBySet(store: SqliteStore): TaskSetEvaluations[] {
  const sets = new Map<string, TaskSetEvaluations>();
  for (const evaluation of listEvaluations(store)) {
    const { done, total } = evaluationProgress(store, evaluation.id);
    const set = sets.get(evaluation.taskSetId) ?? {
      taskSetId: evaluation.taskSetId,
      taskSetName: evaluation.taskSetName,
      rows: [],
    };
    set.rows.push({
      evaluation,
      done,
      total,
      figures: (evaluation.figures as EvaluationFiguresView | null) ?? null,
    });
    sets.set(evaluation.taskSetId, set);
  }
  return [...sets.values()];
}

export interface EvaluationAttemptView {
  taskIndex: number;
  artifactId: string;
  environment: string;
  strategy: string;
  attemptIndex: number;
  state: "pending" | "done";
  resolved: boolean | null;
  gradeStatus: string | null;
  episodeId: string | null;
  exitReason: string | null;
}

/** Every attempt of an evaluation, pending ones too, by task and attempt. */
export function evaluationAttemptViews(store: SqliteStore, id: string): EvaluationAttemptView[] {
  const rows = store.db
    .prepare(
      `SELECT t.task_index, t.artifact_id, t.environment, t.strategy, a.attempt_index, a.state, a.resolved,
              json_extract(a.grade, '$.status') AS grade_status, a.episode_id, e.exit_reason
       FROM evaluations v
       JOIN evaluation_tasks t ON t.evaluation_id = v.id
       LEFT JOIN solver_groups g ON g.run_id = v.run_id AND g.step_index = t.task_index AND g.order_number = 1
       LEFT JOIN solver_attempts a ON a.group_id = g.id
       LEFT JOIN episodes e ON e.id = a.episode_id
       WHERE v.id = ? ORDER BY t.task_index, a.attempt_index`,
    )
    .all(id) as {
    task_index: number;
    artifact_id: string;
    environment: string;
    strategy: string;
    attempt_index: number | null;
    state: "pending" | "done" | null;
    resolved: number | null;
    grade_status: string | null;
    episode_id: string | null;
    exit_reason: string | null;
  }[];
  return rows.map((row) => ({
    taskIndex: row.task_index,
    artifactId: row.artifact_id,
    environment: row.environment,
    strategy: row.strategy,
    attemptIndex: row.attempt_index ?? 0,
    state: row.state ?? "pending",
    resolved: row.resolved === null ? null : row.resolved === 1,
    gradeStatus: row.grade_status,
    episodeId: row.episode_id,
    exitReason: row.exit_reason,
  }));
}
