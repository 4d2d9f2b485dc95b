// The runs table: one row per run, its status, configuration and heartbeat.
import { z } from "zod";
import type { RunId, RunRecord, RunStatus, RunStore } from "../ports/store.js";
import { idColumn, jsonColumn, rowParser, type Sql, timestamp } from "./sql.js";

const RUN_STATUSES = [
  "running",
  "interrupted",
  "completed",
  "failed",
] as const satisfies readonly RunStatus[];

const toRun = rowParser(
  "runs",
  {
    id: idColumn<RunId>(),
    status: z.enum(RUN_STATUSES),
    config: jsonColumn<unknown>({}),
    seed: z.number(),
    starts: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
  },
  (row): RunRecord => ({
    id: row.id,
    status: row.status,
    config: row.config,
    seed: row.seed,
    starts: row.starts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }),
);

export function runTable(sql: Sql): RunStore {
  const getRun = (id: RunId): RunRecord | null => {
    const row = sql.prepare("SELECT * FROM runs WHERE id = ?").get(id);
    return row ? toRun(row) : null;
  };
  return {
    createRun(run) {
      const now = timestamp();
      sql
        .prepare(
          "INSERT INTO runs (id, status, config, seed, starts, created_at, updated_at) VALUES (?, 'running', ?, ?, 1, ?, ?)",
        )
        .run(run.id, JSON.stringify(run.config), run.seed, now, now);
      return getRun(run.id)!;
    },
    getRun,
    latestRun() {
      const row = sql.prepare("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1").get();
      return row ? toRun(row) : null;
    },
    listRuns() {
      return sql.prepare("SELECT * FROM runs ORDER BY created_at, rowid").all().map(toRun);
    },
    restartRun(id, config) {
      sql
        .prepare(
          "UPDATE runs SET status = 'running', starts = starts + 1, config = ?, updated_at = ? WHERE id = ?",
        )
        .run(JSON.stringify(config), timestamp(), id);
      return getRun(id)!;
    },
    touchRun(id) {
      sql.prepare("UPDATE runs SET updated_at = ? WHERE id = ?").run(timestamp(), id);
    },
    setRunStatus(id, status) {
      sql.prepare("UPDATE runs SET status = ?, updated_at = ? WHERE id = ?").run(status, timestamp(), id);
    },
  };
}
