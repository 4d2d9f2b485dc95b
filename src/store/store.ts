// The SQLite store: opens a database (WAL, busy timeout, foreign keys), migrates it, and puts the table
// modules together behind the Store port. Every multi-row change is one transaction and every result has a
// unique key, so a crash between two writes leaves either the old or the new state and a redone write is a no-op.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { errorMessage, InfrastructureError } from "../errors.js";
import type { Store } from "../ports/store.js";
import { artifactTable } from "./artifacts.js";
import { candidateTable } from "./candidates.js";
import { environmentTable } from "./environments.js";
import { episodeTable } from "./episodes.js";
import { groupTable } from "./groups.js";
import { MIGRATIONS } from "./migrations.js";
import { runTable } from "./runs.js";
import { Sql } from "./sql.js";
import { stepTable } from "./steps.js";
import { trainerIterationTable } from "./trainer-iterations.js";

export type { NewGroup, RewardInput, SampleContext } from "../ports/store.js";
export { attemptIdOf } from "./groups.js";

/** The store with its database in reach, for readers of its tables (the dashboard) and its tests. */
export interface SqliteStore extends Store {
  readonly db: Database.Database;
  /** The schema version (SQLite's user_version): 0 for a database that is no store. */
  schemaVersion(): number;
}

/** Opens (and migrates, unless read-only) the store at `path`, as the port the domain uses. */
export function openStore(path: string, options: { readonly?: boolean } = {}): Store {
  return openSqliteStore(path, options);
}

/** Opens (and migrates, unless read-only) the store at `path` with its database in reach. */
export function openSqliteStore(path: string, options: { readonly?: boolean } = {}): SqliteStore {
  const db = openDatabase(path, options.readonly ?? false);
  const schemaVersion = () => db.pragma("user_version", { simple: true }) as number;
  if (!options.readonly) migrate(db, path, schemaVersion);
  const sql = new Sql(db);
  return {
    path,
    db,
    schemaVersion,
    transaction: (work) => sql.transaction(work),
    close() {
      if (db.open) db.close();
    },
    ...runTable(sql),
    ...environmentTable(sql),
    ...stepTable(sql),
    ...episodeTable(sql),
    ...artifactTable(sql),
    ...groupTable(sql),
    ...candidateTable(sql),
    ...trainerIterationTable(sql),
  };
}

function openDatabase(path: string, readonly: boolean): Database.Database {
  try {
    if (path !== ":memory:" && !readonly) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { readonly, fileMustExist: readonly });
    if (!readonly) db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 10000");
    db.pragma("foreign_keys = ON");
    db.pragma("synchronous = NORMAL");
    return db;
  } catch (error) {
    throw new InfrastructureError("store-unavailable", `cannot open store ${path}: ${errorMessage(error)}`, {
      data: { path },
      cause: error,
    });
  }
}

/**
 * Applies every migration newer than the store's user_version, each in its own immediate transaction
 * that re-reads the version, so two processes opening a new store at once do not both migrate it.
 */
function migrate(db: Database.Database, path: string, schemaVersion: () => number): void {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  const current = schemaVersion();
  if (current > latest)
    throw new InfrastructureError(
      "store-too-new",
      `store ${path} has schema version ${current}, newer than this program's ${latest}: upgrade swe-selfplay`,
      { data: { path, current, latest } },
    );
  for (const migration of MIGRATIONS) {
    db.transaction(() => {
      if (schemaVersion() >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
