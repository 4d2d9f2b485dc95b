// A store as the first release wrote it: schema 1 only (no trainer table, none of the later columns or
// indexes), with one completed run, for the tests that open old stores.
import Database from "better-sqlite3";
import { MIGRATIONS } from "../../src/store/index.js";

/** Writes a schema-1 store at `path` holding the run `run-old`; `extra` runs more SQL before it closes. */
export function writeFirstSchemaStore(path: string, extra = ""): void {
  const database = new Database(path);
  database.exec(MIGRATIONS[0]!.sql);
  database.pragma("user_version = 1");
  database
    .prepare(
      "INSERT INTO runs (id, status, config, seed, created_at, updated_at) VALUES (?, 'completed', '{}', 0, ?, ?)",
    )
    .run("run-old", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z");
  if (extra) database.exec(extra);
  database.close();
}
