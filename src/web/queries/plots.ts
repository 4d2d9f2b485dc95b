// The plots of a run: solve-rate histogram, rewards over steps (binned), strategies, rejections, trainer metrics.
import type { RunId, TrainerIteration } from "../../ports/store.js";
import { solveRateHistogram } from "../../selfplay/index.js";
import type { SqliteStore } from "../../store/index.js";
import { count, number, type Row } from "./values.js";

export interface RunPlots {
  solveRates: { label: string; count: number }[];
  /** Mean reward per bin of steps (at most MAX_POINTS bins). */
  rewards: { step: number; proposer: number | null; solver: number | null }[];
  strategies: { strategy: string; finished: number; valid: number }[];
  rejections: { check: string; count: number }[];
  trainer: TrainerIteration[];
}

const MAX_POINTS = 200;

export function runPlots(store: SqliteStore, runId: RunId): RunPlots {
  const rates = (
    store.db
      .prepare("SELECT solve_rate FROM solver_groups WHERE run_id = ? AND state = 'graded'")
      .all(runId) as Row[]
  ).map((row) => count(row.solve_rate));
  const maxStep = count(
    (store.db.prepare("SELECT MAX(step_index) AS n FROM steps WHERE run_id = ?").get(runId) as Row).n,
  );
  const bin = Math.max(1, Math.ceil((maxStep + 1) / MAX_POINTS));
  // Proposer rewards through each step's episode, solver rewards through their group's step.
  const rewards = (
    store.db
      .prepare(
        `SELECT (step_index / @bin) * @bin AS step, AVG(proposer) AS proposer, AVG(solver) AS solver FROM (
           SELECT s.step_index, w.value AS proposer, NULL AS solver
             FROM steps s JOIN rewards w ON w.episode_id = s.episode_id WHERE s.run_id = @runId
           UNION ALL
           SELECT g.step_index, NULL, w.total / w.n
             FROM (SELECT group_id, SUM(value) AS total, COUNT(*) AS n FROM rewards
                    WHERE run_id = @runId AND role = 'solver' GROUP BY group_id) w
             JOIN solver_groups g ON g.id = w.group_id)
          GROUP BY step_index / @bin ORDER BY 1`,
      )
      .all({ runId, bin }) as Row[]
  ).map((row) => ({ step: count(row.step), proposer: number(row.proposer), solver: number(row.solver) }));
  const strategies = (
    store.db
      .prepare(
        `SELECT strategy, SUM(state IN ('done', 'failed')) AS finished, SUM(outcome = 'valid') AS valid
           FROM steps WHERE run_id = ? GROUP BY strategy ORDER BY strategy`,
      )
      .all(runId) as Row[]
  ).map((row) => ({
    strategy: String(row.strategy),
    finished: count(row.finished),
    valid: count(row.valid),
  }));
  const rejections = (
    store.db
      .prepare(
        `SELECT COALESCE(v.failed_check, 'unknown') AS failed_check, COUNT(*) AS n
           FROM steps s
           LEFT JOIN validation_reports v ON v.artifact_id = s.artifact_id AND v.environment = s.environment
          WHERE s.run_id = ? AND s.outcome = 'invalid'
          GROUP BY 1 ORDER BY 2 DESC, 1`,
      )
      .all(runId) as Row[]
  ).map((row) => ({ check: String(row.failed_check), count: count(row.n) }));
  return {
    solveRates: solveRateHistogram(rates),
    rewards,
    strategies,
    rejections,
    trainer: store.listTrainerIterations(runId),
  };
}
