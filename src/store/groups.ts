// Solver groups of an artifact, their G attempts (each graded once) and the rewards that close them.
import { z } from "zod";
import type {
  ArtifactId,
  AttemptId,
  AttemptRecord,
  EpisodeId,
  GroupId,
  GroupRecord,
  GroupStore,
  NewGroup,
  RewardInput,
  RewardRecord,
  RunId,
} from "../ports/store.js";
import type { GradeResult } from "../ports/validation.js";
import { finishEpisode, rewardSamples } from "./episodes.js";
import { booleanColumn, idColumn, jsonColumn, roleColumn, rowParser, type Sql, timestamp } from "./sql.js";

const toGroup = rowParser(
  "solver_groups",
  {
    id: idColumn<GroupId>(),
    run_id: idColumn<RunId>(),
    step_index: z.number(),
    artifact_id: idColumn<ArtifactId>(),
    environment: z.string(),
    order_number: z.union([z.literal(1), z.literal(2)]),
    parent_group_id: idColumn<GroupId>().nullable(),
    source_attempt_id: idColumn<AttemptId>().nullable(),
    group_size: z.number(),
    state: z.enum(["solving", "graded"]),
    solve_rate: z.number().nullable(),
    created_at: z.string(),
    graded_at: z.string().nullable(),
  },
  (row): GroupRecord => ({
    id: row.id,
    runId: row.run_id,
    stepIndex: row.step_index,
    artifactId: row.artifact_id,
    environment: row.environment,
    order: row.order_number,
    parentGroupId: row.parent_group_id,
    sourceAttemptId: row.source_attempt_id,
    groupSize: row.group_size,
    state: row.state,
    solveRate: row.solve_rate,
    createdAt: row.created_at,
    gradedAt: row.graded_at,
  }),
);

const toAttempt = rowParser(
  "solver_attempts",
  {
    id: idColumn<AttemptId>(),
    group_id: idColumn<GroupId>(),
    attempt_index: z.number(),
    seed: z.number(),
    state: z.enum(["pending", "done"]),
    episode_id: idColumn<EpisodeId>().nullable(),
    patch: z.string().nullable(),
    grade: jsonColumn<GradeResult | null>(null),
    resolved: booleanColumn,
    finished_at: z.string().nullable(),
  },
  (row): AttemptRecord => ({
    id: row.id,
    groupId: row.group_id,
    attemptIndex: row.attempt_index,
    seed: row.seed,
    state: row.state,
    episodeId: row.episode_id,
    patch: row.patch,
    grade: row.grade,
    resolved: row.resolved,
    finishedAt: row.finished_at,
  }),
);

const toReward = rowParser(
  "rewards",
  {
    episode_id: idColumn<EpisodeId>(),
    run_id: idColumn<RunId>(),
    role: roleColumn,
    group_id: z.string(),
    value: z.number(),
    reason: z.string(),
    created_at: z.string(),
  },
  (row): RewardRecord => ({
    episodeId: row.episode_id,
    runId: row.run_id,
    role: row.role,
    groupId: row.group_id,
    value: row.value,
    reason: row.reason,
    createdAt: row.created_at,
  }),
);

export function attemptIdOf(groupId: GroupId, index: number): AttemptId {
  return `${groupId}/attempt-${index}` as AttemptId;
}

/** Creates a group in state solving with one pending attempt per seed; an existing group stays as it is. */
export function insertGroup(sql: Sql, runId: RunId, group: NewGroup): void {
  sql
    .prepare(
      `INSERT OR IGNORE INTO solver_groups (id, run_id, step_index, artifact_id, environment, order_number,
         parent_group_id, source_attempt_id, group_size, state, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'solving', ?)`,
    )
    .run(
      group.id,
      runId,
      group.stepIndex,
      group.artifactId,
      group.environment,
      group.order,
      group.parentGroupId ?? null,
      group.sourceAttemptId ?? null,
      group.attemptSeeds.length,
      timestamp(),
    );
  const insert = sql.prepare(
    "INSERT OR IGNORE INTO solver_attempts (id, group_id, attempt_index, seed, state) VALUES (?, ?, ?, ?, 'pending')",
  );
  group.attemptSeeds.forEach((seed, index) => {
    insert.run(attemptIdOf(group.id, index), group.id, index, seed);
  });
}

/** Gives an episode its reward, once, and writes it onto the episode's rollout samples. */
export function insertReward(sql: Sql, runId: RunId, reward: RewardInput): void {
  const inserted = sql
    .prepare(
      "INSERT OR IGNORE INTO rewards (episode_id, run_id, role, group_id, value, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .run(
      reward.episodeId,
      runId,
      reward.role,
      reward.groupId,
      reward.value,
      reward.reason,
      timestamp(),
    ).changes;
  if (inserted > 0) rewardSamples(sql, reward.episodeId, reward.value);
}

export function groupTable(sql: Sql): GroupStore {
  return {
    getGroup(id) {
      const row = sql.prepare("SELECT * FROM solver_groups WHERE id = ?").get(id);
      return row ? toGroup(row) : null;
    },
    listGroups(runId, stepIndex) {
      const rows =
        stepIndex === undefined
          ? sql
              .prepare("SELECT * FROM solver_groups WHERE run_id = ? ORDER BY step_index, created_at, id")
              .all(runId)
          : sql
              .prepare(
                "SELECT * FROM solver_groups WHERE run_id = ? AND step_index = ? ORDER BY created_at, id",
              )
              .all(runId, stepIndex);
      return rows.map(toGroup);
    },
    listAttempts(groupId) {
      return sql
        .prepare("SELECT * FROM solver_attempts WHERE group_id = ? ORDER BY attempt_index")
        .all(groupId)
        .map(toAttempt);
    },
    recordAttempt(input) {
      sql.transaction(() => {
        finishEpisode(sql, input.episodeId, input.episode, {
          runId: input.runId,
          stepIndex: input.stepIndex,
          groupId: input.groupId,
          role: "solver",
        });
        sql
          .prepare(
            `UPDATE solver_attempts SET state = 'done', episode_id = ?, patch = ?, grade = ?, resolved = ?, finished_at = ?
             WHERE id = ? AND state = 'pending'`,
          )
          .run(
            input.episodeId,
            input.patch,
            JSON.stringify(input.grade),
            input.grade.resolved ? 1 : 0,
            timestamp(),
            input.attemptId,
          );
      });
    },
    recordGroupGraded(input) {
      sql.transaction(() => {
        const changed = sql
          .prepare(
            "UPDATE solver_groups SET state = 'graded', solve_rate = ?, graded_at = ? WHERE id = ? AND state = 'solving'",
          )
          .run(input.solveRate, timestamp(), input.groupId).changes;
        if (changed === 0) return;
        for (const reward of input.rewards) insertReward(sql, input.runId, reward);
      });
    },
    getReward(episodeId) {
      const row = sql.prepare("SELECT * FROM rewards WHERE episode_id = ?").get(episodeId);
      return row ? toReward(row) : null;
    },
    listRewards(runId) {
      return sql
        .prepare("SELECT * FROM rewards WHERE run_id = ? ORDER BY created_at, rowid")
        .all(runId)
        .map(toReward);
    },
  };
}
