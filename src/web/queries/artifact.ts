// One artifact as the dashboard shows it: its files, validations, the solver's prompt, its steps and groups
// with their attempts and rewards, its parent and its second-order children.
import { reverseDiff, unwrapDiff } from "../../artifact/index.js";
import { errorMessage } from "../../errors.js";
import type {
  ArtifactId,
  AttemptRecord,
  CandidateRecord,
  GroupRecord,
  RewardRecord,
  StoredArtifact,
} from "../../ports/store.js";
import type { ValidationReport } from "../../ports/validation.js";
import type { SqliteStore } from "../../store/index.js";
import { renderSolverPrompt } from "../../validation/solver-task.js";
import { count, type Row, text } from "./values.js";

export interface GroupView {
  group: GroupRecord;
  attempts: (AttemptRecord & { reward: RewardRecord | null })[];
  candidates: CandidateRecord[];
}

export interface ArtifactView {
  stored: StoredArtifact;
  validations: { environment: string; report: ValidationReport; createdAt: string }[];
  /** The prompt the solver received, or why it could not be rebuilt. */
  solverPrompt: { status: "rebuilt"; text: string } | { status: "failed"; error: string };
  steps: { runId: string; stepIndex: number; episodeId: string | null }[];
  groups: GroupView[];
  parent: { id: string; strategy: string } | null;
  children: { id: string; strategy: string; verdict: string | null; failedCheck: string | null }[];
}

/** The repository path the solver prompt names; every backend mounts the repository there. */
const SOLVER_WORKDIR = "/testbed";

export function artifactView(store: SqliteStore, id: ArtifactId): ArtifactView | null {
  const stored = store.getArtifact(id);
  if (!stored) return null;
  const validations = (
    store.db
      .prepare("SELECT environment FROM validation_reports WHERE artifact_id = ? ORDER BY environment")
      .all(id) as Row[]
  ).flatMap((row) => {
    const validation = store.getValidation(id, String(row.environment));
    return validation ? [validation] : [];
  });
  let solverPrompt: ArtifactView["solverPrompt"];
  try {
    const specification = unwrapDiff(reverseDiff(stored.artifact.testWeakenDiff), "test_weaken.diff");
    solverPrompt = { status: "rebuilt", text: renderSolverPrompt(specification, SOLVER_WORKDIR) };
  } catch (error) {
    solverPrompt = { status: "failed", error: errorMessage(error) };
  }
  const groups = (
    store.db
      .prepare("SELECT id FROM solver_groups WHERE artifact_id = ? ORDER BY created_at")
      .all(id) as Row[]
  ).flatMap((row) => {
    const group = store.getGroup(String(row.id) as GroupRecord["id"]);
    if (!group) return [];
    const attempts = store.listAttempts(group.id).map((attempt) => ({
      ...attempt,
      reward: attempt.episodeId ? store.getReward(attempt.episodeId) : null,
    }));
    return [{ group, attempts, candidates: store.listCandidates(group.id) }];
  });
  const parentId = stored.meta.parentId;
  const parentRow = parentId
    ? (store.db.prepare("SELECT id, strategy FROM artifacts WHERE id = ?").get(parentId) as Row | undefined)
    : undefined;
  return {
    stored,
    validations,
    solverPrompt,
    steps: (
      store.db
        .prepare("SELECT run_id, step_index, episode_id FROM steps WHERE artifact_id = ? ORDER BY started_at")
        .all(id) as Row[]
    ).map((row) => ({
      runId: String(row.run_id),
      stepIndex: count(row.step_index),
      episodeId: text(row.episode_id),
    })),
    groups,
    parent: parentRow ? { id: String(parentRow.id), strategy: String(parentRow.strategy) } : null,
    children: (
      store.db
        .prepare(
          `SELECT a.id, a.strategy, v.verdict, v.failed_check FROM artifacts a
             LEFT JOIN validation_reports v ON v.artifact_id = a.id
            WHERE a.parent_id = ? ORDER BY a.created_at`,
        )
        .all(id) as Row[]
    ).map((row) => ({
      id: String(row.id),
      strategy: String(row.strategy),
      verdict: text(row.verdict),
      failedCheck: text(row.failed_check),
    })),
  };
}
