// The environments of a run: their specs, and the failure count that takes a broken one out of the run.
import { z } from "zod";
import type { EnvironmentRecord, EnvironmentStore, RunId } from "../ports/store.js";
import { idColumn, jsonColumn, rowParser, type Sql } from "./sql.js";

const toEnvironment = rowParser(
  "environments",
  {
    run_id: idColumn<RunId>(),
    name: z.string(),
    spec: jsonColumn<unknown>(null),
    status: z.enum(["active", "disabled"]),
    consecutive_failures: z.number(),
    disabled_reason: z.string().nullable(),
  },
  (row): EnvironmentRecord => ({
    runId: row.run_id,
    name: row.name,
    spec: row.spec,
    status: row.status,
    consecutiveFailures: row.consecutive_failures,
    disabledReason: row.disabled_reason,
  }),
);

const failureCount = rowParser("environments", { consecutive_failures: z.number() }, (row) => row);

export function environmentTable(sql: Sql): EnvironmentStore {
  const disableEnvironment = (runId: RunId, name: string, reason: string): void => {
    sql
      .prepare(
        "UPDATE environments SET status = 'disabled', disabled_reason = ? WHERE run_id = ? AND name = ?",
      )
      .run(reason, runId, name);
  };
  return {
    upsertEnvironment(runId, name, spec) {
      sql
        .prepare(
          `INSERT INTO environments (run_id, name, spec) VALUES (?, ?, ?)
           ON CONFLICT (run_id, name) DO UPDATE SET spec = excluded.spec`,
        )
        .run(runId, name, JSON.stringify(spec));
    },
    listEnvironments(runId) {
      return sql
        .prepare("SELECT * FROM environments WHERE run_id = ? ORDER BY name")
        .all(runId)
        .map(toEnvironment);
    },
    recordEnvironmentFailure(runId, name, reason, maxFailures) {
      return sql.transaction(() => {
        sql
          .prepare(
            "UPDATE environments SET consecutive_failures = consecutive_failures + 1 WHERE run_id = ? AND name = ?",
          )
          .run(runId, name);
        const row = sql
          .prepare("SELECT consecutive_failures FROM environments WHERE run_id = ? AND name = ?")
          .get(runId, name);
        if (!row || failureCount(row).consecutive_failures < maxFailures) return false;
        disableEnvironment(runId, name, reason);
        return true;
      });
    },
    disableEnvironment,
    recordEnvironmentSuccess(runId, name) {
      sql
        .prepare(
          "UPDATE environments SET consecutive_failures = 0 WHERE run_id = ? AND name = ? AND status = 'active'",
        )
        .run(runId, name);
    },
    reactivateEnvironments(runId) {
      sql
        .prepare(
          "UPDATE environments SET status = 'active', consecutive_failures = 0, disabled_reason = NULL WHERE run_id = ?",
        )
        .run(runId);
    },
  };
}
