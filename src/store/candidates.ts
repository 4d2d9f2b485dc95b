// Second-order candidates: a failed solver attempt chosen to become a new bug, through its artifact and
// validation to a solver group of its own (or an outcome that says why not).
import { z } from "zod";
import type {
  ArtifactId,
  AttemptId,
  CandidateId,
  CandidateRecord,
  CandidateStore,
  GroupId,
} from "../ports/store.js";
import { insertArtifact, insertValidation } from "./artifacts.js";
import { insertGroup } from "./groups.js";
import { idColumn, outcomeColumn, rowParser, type Sql } from "./sql.js";

const toCandidate = rowParser(
  "second_order_candidates",
  {
    id: idColumn<CandidateId>(),
    group_id: idColumn<GroupId>(),
    attempt_id: idColumn<AttemptId>(),
    state: z.enum(["pending", "validating", "done"]),
    outcome: outcomeColumn.nullable(),
    artifact_id: idColumn<ArtifactId>().nullable(),
    child_group_id: idColumn<GroupId>().nullable(),
    reason: z.string().nullable(),
  },
  (row): CandidateRecord => ({
    id: row.id,
    groupId: row.group_id,
    attemptId: row.attempt_id,
    state: row.state,
    outcome: row.outcome,
    artifactId: row.artifact_id,
    childGroupId: row.child_group_id,
    reason: row.reason,
  }),
);

export function candidateTable(sql: Sql): CandidateStore {
  const listCandidates = (groupId: GroupId): CandidateRecord[] =>
    sql
      .prepare("SELECT * FROM second_order_candidates WHERE group_id = ? ORDER BY id")
      .all(groupId)
      .map(toCandidate);
  return {
    insertCandidates(groupId, attemptIds) {
      sql.transaction(() => {
        const insert = sql.prepare(
          "INSERT OR IGNORE INTO second_order_candidates (id, group_id, attempt_id, state) VALUES (?, ?, ?, 'pending')",
        );
        for (const attemptId of attemptIds) insert.run(`${attemptId}/second-order`, groupId, attemptId);
      });
      return listCandidates(groupId);
    },
    listCandidates,
    listAllCandidates(runId) {
      return sql
        .prepare(
          `SELECT c.* FROM second_order_candidates c JOIN solver_groups g ON g.id = c.group_id
           WHERE g.run_id = ? ORDER BY c.id`,
        )
        .all(runId)
        .map(toCandidate);
    },
    recordCandidateArtifact(id, artifactId, artifact) {
      sql.transaction(() => {
        insertArtifact(sql, artifactId, artifact);
        sql
          .prepare(
            "UPDATE second_order_candidates SET state = 'validating', artifact_id = ? WHERE id = ? AND state = 'pending'",
          )
          .run(artifactId, id);
      });
    },
    recordCandidateEnded(id, outcome, reason) {
      sql
        .prepare(
          "UPDATE second_order_candidates SET state = 'done', outcome = ?, reason = ? WHERE id = ? AND state != 'done'",
        )
        .run(outcome, reason, id);
    },
    recordCandidateValidation(input) {
      sql.transaction(() => {
        insertValidation(sql, input.environment, input.report);
        const group = input.report.verdict === "valid" ? input.group : null;
        if (group) insertGroup(sql, input.runId, group);
        sql
          .prepare(
            "UPDATE second_order_candidates SET state = 'done', outcome = ?, reason = ?, child_group_id = ? WHERE id = ? AND state = 'validating'",
          )
          .run(
            group ? "valid" : "invalid",
            group ? null : input.report.reason,
            group ? group.id : null,
            input.candidateId,
          );
      });
    },
  };
}
