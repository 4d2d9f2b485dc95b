// Episodes (a policy's turn at a role, its trajectory saved after every step) and the rollout samples a
// finished episode leaves for trainers, with the reward written onto them once it is known.
import { z } from "zod";
import type { EpisodeConversation, PolicyEpisode } from "../ports/policy.js";
import type { EpisodeStatus, RolloutSample } from "../ports/rollout.js";
import type {
  EpisodeId,
  EpisodeRecord,
  EpisodeSampleCount,
  EpisodeStore,
  GroupId,
  RunId,
  SampleContext,
} from "../ports/store.js";
import {
  addedColumn,
  idColumn,
  jsonColumn,
  jsonText,
  roleColumn,
  rowParser,
  type Sql,
  timestamp,
} from "./sql.js";

const EPISODE_STATES = [
  "running",
  "finished",
  "aborted",
] as const satisfies readonly EpisodeRecord["state"][];
const EPISODE_STATUSES = [
  "completed",
  "truncated",
  "aborted",
  "failed",
] as const satisfies readonly EpisodeStatus[];

const toEpisode = rowParser(
  "episodes",
  {
    id: idColumn<EpisodeId>(),
    run_id: idColumn<RunId>(),
    role: roleColumn,
    step_index: z.number(),
    group_id: idColumn<GroupId>().nullable(),
    state: z.enum(EPISODE_STATES),
    policy: jsonColumn<unknown>(null),
    status: z.enum(EPISODE_STATUSES).nullable(),
    exit_reason: z.string().nullable(),
    trajectory: jsonColumn<unknown[]>([]),
    conversation: addedColumn(jsonColumn<EpisodeConversation | null>(null)),
    stats: jsonColumn<Record<string, number>>({}),
    started_at: z.string(),
    ended_at: z.string().nullable(),
  },
  (row): EpisodeRecord => ({
    id: row.id,
    runId: row.run_id,
    role: row.role,
    stepIndex: row.step_index,
    groupId: row.group_id,
    state: row.state,
    policy: row.policy,
    status: row.status,
    exitReason: row.exit_reason,
    trajectory: row.trajectory,
    conversation: row.conversation,
    stats: row.stats,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  }),
);

const toSampleCount = rowParser(
  "episodes",
  {
    id: idColumn<EpisodeId>(),
    role: roleColumn,
    state: z.enum(EPISODE_STATES),
    policy: jsonColumn<{ kind?: string } | null>(null),
    stats: jsonColumn<Record<string, number>>({}),
    samples: z.number(),
  },
  (row): EpisodeSampleCount => ({
    id: row.id,
    role: row.role,
    state: row.state,
    policyKind: row.policy?.kind ?? null,
    stats: row.stats,
    samples: row.samples,
  }),
);

const toSample = rowParser(
  "rollout_samples",
  { record: jsonText<RolloutSample>(), reward: z.number().nullable() },
  (row): RolloutSample => ({ ...row.record, reward: row.reward }),
);

/** The columns policy, status, exit_reason, trajectory, conversation and stats of an episode so far. */
function progressColumns(episode: PolicyEpisode): unknown[] {
  return [
    JSON.stringify(episode.policy),
    episode.status,
    episode.exitReason,
    JSON.stringify(episode.trajectory),
    episode.conversation ? JSON.stringify(episode.conversation) : null,
    JSON.stringify(episode.stats),
  ];
}

/** Ends a running episode with its final trajectory and stores its samples, rewards still unknown. */
export function finishEpisode(sql: Sql, id: EpisodeId, episode: PolicyEpisode, context: SampleContext): void {
  sql
    .prepare(
      `UPDATE episodes SET state = 'finished', policy = ?, status = ?, exit_reason = ?, trajectory = ?,
         conversation = ?, stats = ?, ended_at = ? WHERE id = ? AND state = 'running'`,
    )
    .run(...progressColumns(episode), episode.endedAt ?? timestamp(), id);
  const insert = sql.prepare(
    `INSERT OR IGNORE INTO rollout_samples (sample_id, episode_id, run_id, step_index, group_id, role, record)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const sample of episode.samples) {
    const record: RolloutSample = {
      ...sample,
      episode_id: id,
      group_id: context.groupId,
      role: context.role,
      reward: null,
      meta: { ...sample.meta, step: context.stepIndex },
    };
    insert.run(
      sample.sample_id,
      id,
      context.runId,
      context.stepIndex,
      context.groupId,
      context.role,
      JSON.stringify(record),
    );
  }
}

/** Writes an episode's reward onto its rollout samples. */
export function rewardSamples(sql: Sql, episodeId: EpisodeId, value: number): void {
  sql.prepare("UPDATE rollout_samples SET reward = ? WHERE episode_id = ?").run(value, episodeId);
}

export function episodeTable(sql: Sql): EpisodeStore {
  return {
    startEpisode(episode) {
      sql
        .prepare(
          `INSERT OR IGNORE INTO episodes (id, run_id, role, step_index, group_id, state, started_at)
           VALUES (?, ?, ?, ?, ?, 'running', ?)`,
        )
        .run(
          episode.id,
          episode.runId,
          episode.role,
          episode.stepIndex,
          episode.groupId ?? null,
          timestamp(),
        );
    },
    saveEpisodeProgress(id, episode) {
      sql
        .prepare(
          "UPDATE episodes SET policy = ?, status = ?, exit_reason = ?, trajectory = ?, conversation = ?, stats = ? WHERE id = ? AND state = 'running'",
        )
        .run(...progressColumns(episode), id);
    },
    getEpisode(id) {
      const row = sql.prepare("SELECT * FROM episodes WHERE id = ?").get(id);
      return row ? toEpisode(row) : null;
    },
    listEpisodes(runId) {
      return sql
        .prepare("SELECT * FROM episodes WHERE run_id = ? ORDER BY step_index, started_at")
        .all(runId)
        .map(toEpisode);
    },
    listEpisodeSampleCounts(runId) {
      return sql
        .prepare(
          `SELECT e.id, e.role, e.state, e.policy, e.stats, COALESCE(c.samples, 0) AS samples
           FROM episodes e
           LEFT JOIN (SELECT episode_id, COUNT(*) AS samples FROM rollout_samples WHERE run_id = ? GROUP BY episode_id) c
             ON c.episode_id = e.id
           WHERE e.run_id = ? AND e.state != 'running'
           ORDER BY e.step_index, e.started_at`,
        )
        .all(runId, runId)
        .map(toSampleCount);
    },
    abortRunningEpisodes(runId, reason) {
      return sql
        .prepare(
          "UPDATE episodes SET state = 'aborted', status = 'aborted', exit_reason = ?, ended_at = ? WHERE run_id = ? AND state = 'running'",
        )
        .run(reason, timestamp(), runId).changes;
    },
    listSamples(runId, stepIndex) {
      const rows =
        stepIndex === undefined
          ? sql
              .prepare(
                "SELECT record, reward FROM rollout_samples WHERE run_id = ? ORDER BY step_index, rowid",
              )
              .all(runId)
          : sql
              .prepare(
                "SELECT record, reward FROM rollout_samples WHERE run_id = ? AND step_index = ? ORDER BY rowid",
              )
              .all(runId, stepIndex);
      return rows.map(toSample);
    },
  };
}
