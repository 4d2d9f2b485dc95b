// A run's totals and live progress, and the page of runs: aggregates computed in SQL over the run's indexes.
import type { RunId, RunRecord } from "../../ports/store.js";
import type { SqliteStore } from "../../store/index.js";
import { count, number, type Page, type Row, text } from "./values.js";

export interface RunTotals {
  steps: number;
  finished: number;
  valid: number;
  invalid: number;
  noArtifact: number;
  error: number;
  meanSolveRate: number | null;
  gradedGroups: number;
  proposerReward: number | null;
  solverReward: number | null;
  attempts: number;
  resolved: number;
  /** Finished steps per hour over the span from the first step's start to the last step's end. */
  stepsPerHour: number | null;
}

export interface RunOverview {
  run: RunRecord;
  totals: RunTotals;
}

export function runTotals(store: SqliteStore, runId: RunId): RunTotals {
  const steps = store.db
    .prepare(
      `SELECT COUNT(*) AS steps,
              SUM(state IN ('done', 'failed')) AS finished,
              SUM(outcome = 'valid') AS valid,
              SUM(outcome = 'invalid') AS invalid,
              SUM(outcome = 'no-artifact') AS no_artifact,
              SUM(outcome = 'error') AS error,
              MIN(started_at) AS first_started,
              MAX(ended_at) AS last_ended
         FROM steps WHERE run_id = ?`,
    )
    .get(runId) as Row;
  const groups = store.db
    .prepare(
      `SELECT COUNT(*) AS graded, AVG(solve_rate) AS mean FROM solver_groups WHERE run_id = ? AND state = 'graded'`,
    )
    .get(runId) as Row;
  const rewards = store.db
    .prepare(
      `SELECT AVG(CASE WHEN role = 'proposer' THEN value END) AS proposer,
              AVG(CASE WHEN role = 'solver' THEN value END) AS solver
         FROM rewards WHERE run_id = ?`,
    )
    .get(runId) as Row;
  // Attempts of graded groups: a group's solve rate is its resolved attempts over its size, so the
  // groups give both counts without reading every attempt.
  const attempts = store.db
    .prepare(
      `SELECT SUM(group_size) AS graded, SUM(ROUND(solve_rate * group_size)) AS resolved
         FROM solver_groups WHERE run_id = ? AND state = 'graded'`,
    )
    .get(runId) as Row;
  const first = text(steps.first_started);
  const last = text(steps.last_ended);
  const spanMs = first && last ? Date.parse(last) - Date.parse(first) : 0;
  const finished = count(steps.finished);
  return {
    steps: count(steps.steps),
    finished,
    valid: count(steps.valid),
    invalid: count(steps.invalid),
    noArtifact: count(steps.no_artifact),
    error: count(steps.error),
    meanSolveRate: number(groups.mean),
    gradedGroups: count(groups.graded),
    proposerReward: number(rewards.proposer),
    solverReward: number(rewards.solver),
    attempts: count(attempts.graded),
    resolved: count(attempts.resolved),
    stepsPerHour: spanMs > 0 ? (finished * 3_600_000) / spanMs : null,
  };
}

export function listRunOverviews(store: SqliteStore, page: number, pageSize: number): Page<RunOverview> {
  const total = count((store.db.prepare("SELECT COUNT(*) AS n FROM runs").get() as Row).n);
  const ids = store.db
    .prepare("SELECT id FROM runs ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?")
    .all(pageSize, (page - 1) * pageSize) as { id: RunId }[];
  const rows = ids.flatMap(({ id }) => {
    const run = store.getRun(id);
    return run ? [{ run, totals: runTotals(store, id) }] : [];
  });
  return { rows, total, page, pageSize };
}

/** What the live view of a run shows; compared between polls so that only changes are sent. */
export interface RunProgress {
  status: string;
  totals: RunTotals;
  inFlight: { proposing: number; validating: number; solving: number };
}

export function runProgress(store: SqliteStore, runId: RunId): RunProgress | null {
  const run = store.getRun(runId);
  if (!run) return null;
  const states = store.db
    .prepare(
      `SELECT SUM(state = 'proposing') AS proposing, SUM(state = 'validating') AS validating,
              SUM(state = 'solving') AS solving
         FROM steps WHERE run_id = ?`,
    )
    .get(runId) as Row;
  return {
    status: run.status,
    totals: runTotals(store, runId),
    inFlight: {
      proposing: count(states.proposing),
      validating: count(states.validating),
      solving: count(states.solving),
    },
  };
}
