// Exports a store's episodes as supervised fine-tuning data: sft.jsonl, one messages line per chosen
// episode (sft-lines.ts decides which and how), after reading what the store knows of each episode's outcome.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { semanticKey } from "../../artifact/index.js";
import type { ArtifactId, EpisodeId, RunId, Store } from "../../ports/store.js";
import { writeFileAtomic } from "./atomic-write.js";
import { type SftEpisode, type SftFilters, type SftSelection, selectSftLines } from "./sft-lines.js";
import { type ChatRenderer, SftTokenizer } from "./sft-tokens.js";

export interface SftExportResult extends Omit<SftSelection, "lines"> {
  path: string;
  count: number;
}

/** Every episode of the runs with its environment, artifact, reward and outcome, in run and step order. */
export function sftEpisodes(store: Store, runIds: readonly RunId[]): SftEpisode[] {
  const keys = new Map<string, string | null>();
  const bugKey = (id: string | null): string | null => {
    if (id === null) return null;
    if (!keys.has(id)) {
      const stored = store.getArtifact(id as ArtifactId);
      keys.set(id, stored ? semanticKey(stored.artifact.bugInjectDiff) : null);
    }
    return keys.get(id) ?? null;
  };
  return runIds.flatMap((runId) => runEpisodes(store, runId, bugKey));
}

function runEpisodes(store: Store, runId: RunId, bugKey: (id: string | null) => string | null): SftEpisode[] {
  type Outcome = Pick<SftEpisode, "environment" | "artifactId" | "resolved" | "valid">;
  const outcomes = new Map<EpisodeId, Outcome>();
  for (const step of store.listSteps(runId))
    if (step.episodeId)
      outcomes.set(step.episodeId, {
        environment: step.environment,
        artifactId: step.artifactId,
        resolved: null,
        valid: step.outcome === null ? null : step.outcome === "valid",
      });
  for (const group of store.listGroups(runId))
    for (const attempt of store.listAttempts(group.id))
      if (attempt.episodeId)
        outcomes.set(attempt.episodeId, {
          environment: group.environment,
          artifactId: group.artifactId,
          resolved: attempt.resolved,
          valid: null,
        });
  const rewards = new Map(store.listRewards(runId).map((reward) => [reward.episodeId, reward.value]));
  return store.listEpisodes(runId).map((episode) => {
    const outcome = outcomes.get(episode.id);
    const policy = episode.policy as SftEpisode["policy"];
    return {
      episodeId: episode.id,
      runId,
      role: episode.role,
      state: episode.state,
      environment: outcome?.environment ?? null,
      artifactId: outcome?.artifactId ?? null,
      bugKey: bugKey(outcome?.artifactId ?? null),
      policy: policy && typeof policy === "object" ? policy : null,
      reward: rewards.get(episode.id) ?? null,
      resolved: outcome?.resolved ?? null,
      valid: outcome?.valid ?? null,
      conversation: episode.conversation,
    };
  });
}

export function sftJsonl(lines: readonly { meta: unknown }[]): string {
  return lines.map((line) => `${JSON.stringify(line)}\n`).join("");
}

interface SftExportOptions {
  store: Store;
  runIds: readonly RunId[];
  outDir: string;
  filters?: SftFilters;
}

/** Writes `<outDir>/sft.jsonl` from the runs' episodes; the file is replaced whole. */
export function exportSft(options: SftExportOptions): SftExportResult {
  const { lines, ...selection } = selectSftLines(sftEpisodes(options.store, options.runIds), options.filters);
  mkdirSync(options.outDir, { recursive: true });
  const path = join(options.outDir, "sft.jsonl");
  writeFileAtomic(path, sftJsonl(lines));
  return { ...selection, path, count: lines.length };
}

/**
 * Writes `<outDir>/sft-tokens.jsonl`: the same lines as `exportSft`, rendered through the model's chat
 * template by `renderer`; nothing is written when a line is refused.
 */
export async function exportSftTokens(
  options: SftExportOptions & { renderer: ChatRenderer },
): Promise<SftExportResult> {
  const { lines, ...selection } = selectSftLines(sftEpisodes(options.store, options.runIds), options.filters);
  const tokenizer = new SftTokenizer(options.renderer);
  const tokenLines = [];
  for (const [index, line] of lines.entries()) tokenLines.push(await tokenizer.tokenLine(line, index + 1));
  mkdirSync(options.outDir, { recursive: true });
  const path = join(options.outDir, "sft-tokens.jsonl");
  writeFileAtomic(path, sftJsonl(tokenLines));
  return { ...selection, path, count: tokenLines.length };
}
