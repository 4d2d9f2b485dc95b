// Builds a PolicyEpisode step by step for the built-in policy and hands it to onStep after every step.
import { randomUUID } from "node:crypto";
import type { PolicyEpisode, PolicyInfo, Role } from "../../ports/policy.js";
import type { EpisodeStatus } from "../../ports/rollout.js";

export interface EpisodeRecorder {
  readonly episode: PolicyEpisode;
  /** Appends a step (any JSON-serialisable record) and reports the episode so far. */
  step(record: Record<string, unknown>): Promise<void>;
  count(stat: string, by?: number): void;
  /** Marks the episode finished and returns it. */
  finish(status: EpisodeStatus, exitReason: string): PolicyEpisode;
}

export function createEpisodeRecorder(options: {
  role: Role;
  policy: PolicyInfo;
  onStep?: (episode: PolicyEpisode) => void | Promise<void>;
}): EpisodeRecorder {
  const started = Date.now();
  const episode: PolicyEpisode = {
    id: randomUUID(),
    role: options.role,
    policy: options.policy,
    status: "truncated",
    exitReason: "running",
    trajectory: [],
    samples: [],
    startedAt: new Date(started).toISOString(),
    endedAt: null,
    stats: {},
  };
  return {
    episode,
    async step(record) {
      episode.trajectory.push({ ...record, atMs: Date.now() - started });
      await options.onStep?.(episode);
    },
    count(stat, by = 1) {
      episode.stats[stat] = (episode.stats[stat] ?? 0) + by;
    },
    finish(status, exitReason) {
      episode.status = status;
      episode.exitReason = exitReason;
      episode.endedAt = new Date().toISOString();
      episode.stats.wallTimeMs = Date.now() - started;
      return episode;
    },
  };
}
