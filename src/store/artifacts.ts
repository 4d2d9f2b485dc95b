// Bug artifacts, stored once by content id, and the validation report of each artifact per environment.
import { z } from "zod";
import type { ArtifactMeta, BugArtifact } from "../ports/artifact.js";
import type { ArtifactId, ArtifactStore, StoredArtifact, StoredValidation } from "../ports/store.js";
import type { ValidationReport } from "../ports/validation.js";
import { idColumn, jsonText, rowParser, type Sql, timestamp } from "./sql.js";

const toArtifact = rowParser(
  "artifacts",
  {
    id: idColumn<ArtifactId>(),
    test_script: z.string(),
    test_files: jsonText<string[]>(),
    test_parser: z.string(),
    bug_inject_diff: z.string(),
    test_weaken_diff: z.string(),
    meta: jsonText<ArtifactMeta>(),
    created_at: z.string(),
  },
  (row): StoredArtifact => ({
    id: row.id,
    meta: row.meta,
    createdAt: row.created_at,
    artifact: {
      testScript: row.test_script,
      testFiles: row.test_files,
      testParser: row.test_parser,
      bugInjectDiff: row.bug_inject_diff,
      testWeakenDiff: row.test_weaken_diff,
      meta: row.meta,
    },
  }),
);

const toValidation = rowParser(
  "validation_reports",
  {
    artifact_id: idColumn<ArtifactId>(),
    environment: z.string(),
    report: jsonText<ValidationReport>(),
    created_at: z.string(),
  },
  (row): StoredValidation => ({
    artifactId: row.artifact_id,
    environment: row.environment,
    report: row.report,
    createdAt: row.created_at,
  }),
);

/** Stores an artifact by content id; the first stored copy wins. */
export function insertArtifact(sql: Sql, id: ArtifactId, artifact: BugArtifact): void {
  sql
    .prepare(
      `INSERT OR IGNORE INTO artifacts (id, environment, strategy, order_number, parent_id, test_script, test_files,
         test_parser, bug_inject_diff, test_weaken_diff, meta, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      id,
      artifact.meta.environment,
      artifact.meta.strategy,
      artifact.meta.order,
      artifact.meta.parentId,
      artifact.testScript,
      JSON.stringify(artifact.testFiles),
      artifact.testParser,
      artifact.bugInjectDiff,
      artifact.testWeakenDiff,
      JSON.stringify(artifact.meta),
      timestamp(),
    );
}

/** Stores a validation report; the first report of an artifact in an environment wins. */
export function insertValidation(sql: Sql, environment: string, report: ValidationReport): void {
  sql
    .prepare(
      `INSERT OR IGNORE INTO validation_reports (artifact_id, environment, verdict, failed_check, report, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    )
    .run(
      report.artifactId,
      environment,
      report.verdict,
      report.failedCheck,
      JSON.stringify(report),
      timestamp(),
    );
}

export function artifactTable(sql: Sql): ArtifactStore {
  return {
    insertArtifact: (id, artifact) => insertArtifact(sql, id, artifact),
    getArtifact(id) {
      const row = sql.prepare("SELECT * FROM artifacts WHERE id = ?").get(id);
      return row ? toArtifact(row) : null;
    },
    listArtifacts() {
      return sql.prepare("SELECT * FROM artifacts ORDER BY created_at, rowid").all().map(toArtifact);
    },
    getValidation(artifactId, environment) {
      const row = sql
        .prepare("SELECT * FROM validation_reports WHERE artifact_id = ? AND environment = ?")
        .get(artifactId, environment);
      return row ? toValidation(row) : null;
    },
    listValidations(options = {}) {
      const rows = options.verdict
        ? sql
            .prepare("SELECT * FROM validation_reports WHERE verdict = ? ORDER BY created_at, rowid")
            .all(options.verdict)
        : sql.prepare("SELECT * FROM validation_reports ORDER BY created_at, rowid").all();
      return rows.map(toValidation);
    },
  };
}
