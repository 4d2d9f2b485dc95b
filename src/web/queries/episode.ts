// One episode as the dashboard shows it: its record, reward, samples and the step or attempt it played.
import type { RolloutSample } from "../../ports/rollout.js";
import type { EpisodeId, EpisodeRecord, RewardRecord } from "../../ports/store.js";
import type { SqliteStore } from "../../store/index.js";
import { count, type Row, text } from "./values.js";

export interface EpisodeView {
  episode: EpisodeRecord;
  reward: RewardRecord | null;
  samples: RolloutSample[];
  /** The step (proposer) or attempt (solver) the episode belongs to. */
  step: { stepIndex: number; artifactId: string | null } | null;
  attempt: { groupId: string; attemptIndex: number; artifactId: string; resolved: boolean | null } | null;
}

export function episodeView(store: SqliteStore, id: EpisodeId): EpisodeView | null {
  const episode = store.getEpisode(id);
  if (!episode) return null;
  const step = store.db.prepare("SELECT step_index, artifact_id FROM steps WHERE episode_id = ?").get(id) as
    | Row
    | undefined;
  const attempt = store.db
    .prepare(
      `SELECT a.group_id, a.attempt_index, a.resolved, g.artifact_id
         FROM solver_attempts a JOIN solver_groups g ON g.id = a.group_id WHERE a.episode_id = ?`,
    )
    .get(id) as Row | undefined;
  return {
    episode,
    reward: store.getReward(id),
    samples: (
      store.db
        .prepare("SELECT record FROM rollout_samples WHERE episode_id = ? ORDER BY rowid")
        .all(id) as Row[]
    ).map((row) => JSON.parse(String(row.record)) as RolloutSample),
    step: step ? { stepIndex: count(step.step_index), artifactId: text(step.artifact_id) } : null,
    attempt: attempt
      ? {
          groupId: String(attempt.group_id),
          attemptIndex: count(attempt.attempt_index),
          artifactId: String(attempt.artifact_id),
          resolved: attempt.resolved === null ? null : attempt.resolved === 1,
        }
      : null,
  };
}
