// Metrics a trainer records once per iteration (reward and solve rate of the samples it trained on, its
// loss, ...), keyed by run and iteration and naming the policy version the iteration produced or trained.
import { InputError } from "../errors.js";
import type { RunId, Store, TrainerIteration, TrainerIterationInput } from "../ports/store.js";

/** The part of a store this module needs: its database handle. */
interface Database {
  readonly db: import("better-sqlite3").Database;
}

/** Records (or replaces) one iteration's metrics through any store. */
export function recordTrainerIteration(store: Store, input: TrainerIterationInput): void {
  store.recordTrainerIteration(input);
}

/** A run's iterations in order, through any store. */
export function listTrainerIterations(store: Store, runId: RunId): TrainerIteration[] {
  return store.listTrainerIterations(runId);
}

/** Records (or replaces) one iteration's metrics; non-finite metrics are refused with their name. */
export function insertTrainerIteration(store: Database, input: TrainerIterationInput): void {
  if (!Number.isInteger(input.iteration) || input.iteration < 0)
    throw new InputError(
      "bad-iteration",
      `trainer iteration must be a non-negative integer, got ${input.iteration}`,
    );
  for (const [name, value] of Object.entries(input.metrics))
    if (typeof value !== "number" || !Number.isFinite(value))
      throw new InputError(
        "bad-metric",
        `trainer iteration ${input.iteration}: metric "${name}" is ${String(value)}, not a finite number`,
      );
  store.db
    .prepare(
      `INSERT INTO trainer_iterations (run_id, iteration, policy_version, metrics, created_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id, iteration) DO UPDATE SET
         policy_version = excluded.policy_version, metrics = excluded.metrics, created_at = excluded.created_at`,
    )
    .run(
      input.runId,
      input.iteration,
      input.policyVersion,
      JSON.stringify(input.metrics),
      new Date().toISOString(),
    );
}

/** A run's iterations in order; empty when none were recorded or the store predates the table. */
export function selectTrainerIterations(store: Database, runId: RunId): TrainerIteration[] {
  const table = store.db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'trainer_iterations'")
    .get();
  if (!table) return [];
  const rows = store.db
    .prepare(
      "SELECT iteration, policy_version, metrics, created_at FROM trainer_iterations WHERE run_id = ? ORDER BY iteration",
    )
    .all(runId) as { iteration: number; policy_version: string; metrics: string; created_at: string }[];
  return rows.map((row) => ({
    runId,
    iteration: row.iteration,
    policyVersion: row.policy_version,
    metrics: JSON.parse(row.metrics) as Record<string, number>,
    createdAt: row.created_at,
  }));
}
