// Metrics a trainer records once per iteration (reward and solve rate of the samples it trained on, its
// loss, ...), keyed by run and iteration and naming the policy version the iteration produced or trained.
import { z } from "zod";
import { InputError } from "../errors.js";
import type {
  RunId,
  Store,
  TrainerIteration,
  TrainerIterationInput,
  TrainerIterationStore,
} from "../ports/store.js";
import { idColumn, jsonText, rowParser, type Sql, timestamp } from "./sql.js";

const toIteration = rowParser(
  "trainer_iterations",
  {
    run_id: idColumn<RunId>(),
    iteration: z.number(),
    policy_version: z.string(),
    metrics: jsonText<Record<string, number>>(),
    created_at: z.string(),
  },
  (row): TrainerIteration => ({
    runId: row.run_id,
    iteration: row.iteration,
    policyVersion: row.policy_version,
    metrics: row.metrics,
    createdAt: row.created_at,
  }),
);

function checkIteration(input: TrainerIterationInput): void {
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
}

export function trainerIterationTable(sql: Sql): TrainerIterationStore {
  return {
    recordTrainerIteration(input) {
      checkIteration(input);
      sql
        .prepare(
          `INSERT INTO trainer_iterations (run_id, iteration, policy_version, metrics, created_at)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (run_id, iteration) DO UPDATE SET
             policy_version = excluded.policy_version, metrics = excluded.metrics, created_at = excluded.created_at`,
        )
        .run(input.runId, input.iteration, input.policyVersion, JSON.stringify(input.metrics), timestamp());
    },
    listTrainerIterations(runId) {
      // A read-only store of an older schema has no such table: it simply has no iterations.
      const table = sql
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'trainer_iterations'")
        .get();
      if (!table) return [];
      return sql
        .prepare("SELECT * FROM trainer_iterations WHERE run_id = ? ORDER BY iteration")
        .all(runId)
        .map(toIteration);
    },
  };
}

/** Records (or replaces) one iteration's metrics through any store. */
export function recordTrainerIteration(store: Store, input: TrainerIterationInput): void {
  store.recordTrainerIteration(input);
}

/** A run's iterations in order, through any store. */
export function listTrainerIterations(store: Store, runId: RunId): TrainerIteration[] {
  return store.listTrainerIterations(runId);
}
