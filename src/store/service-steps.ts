// The service's steps: each accepted request (keyed by its request_id, so a repeat finds its step), its
// status and, once it ends, its result, which is never changed afterwards; plus the service's own
// settings (replica id, the highest policy step seen) as key/value rows.
import { z } from "zod";
import type { BugArtifact } from "../ports/artifact.js";
import type { ArtifactId, RunId, StepRecord } from "./types.js";

/** The part of a store this module needs: its database handle and its transactions. */
interface Database {
  readonly db: import("better-sqlite3").Database;
  transaction<T>(work: () => T): T;
}

export type ServiceStepStatus = "queued" | "running" | "done" | "failed" | "cancelled";
const TERMINAL = ["done", "failed", "cancelled"] as const;

const rowSchema = z.object({
  step_id: z.string(),
  request_id: z.string(),
  kind: z.enum(["step", "solve"]),
  request: z.string(),
  status: z.enum(["queued", "running", "done", "failed", "cancelled"]),
  reason: z.string().nullable(),
  policy_version: z.string(),
  policy_step: z.number().int().nullable(),
  run_id: z.string().nullable(),
  step_index: z.number().int().nullable(),
  result: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  acked_at: z.string().nullable(),
  pruned: z.number().int(),
});

export interface ServiceStepRecord {
  stepId: string;
  requestId: string;
  kind: "step" | "solve";
  /** The request body as accepted (canonical JSON). */
  request: string;
  status: ServiceStepStatus;
  reason: string | null;
  policyVersion: string;
  policyStep: number | null;
  runId: RunId | null;
  stepIndex: number | null;
  /** The result as JSON, once the step ended (null again after it was pruned). */
  result: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  ackedAt: string | null;
  pruned: boolean;
}

function toRecord(row: unknown): ServiceStepRecord {
  const parsed = rowSchema.parse(row);
  return {
    stepId: parsed.step_id,
    requestId: parsed.request_id,
    kind: parsed.kind,
    request: parsed.request,
    status: parsed.status,
    reason: parsed.reason,
    policyVersion: parsed.policy_version,
    policyStep: parsed.policy_step,
    runId: parsed.run_id as RunId | null,
    stepIndex: parsed.step_index,
    result: parsed.result,
    createdAt: parsed.created_at,
    startedAt: parsed.started_at,
    endedAt: parsed.ended_at,
    ackedAt: parsed.acked_at,
    pruned: parsed.pruned === 1,
  };
}

export interface NewServiceStep {
  stepId: string;
  requestId: string;
  kind: "step" | "solve";
  request: string;
  policyVersion: string;
  policyStep: number | null;
}

/**
 * Inserts a queued step unless one with the same request id exists; returns the step of that request id
 * and whether this call created it. `admit` (inside the same transaction) may refuse a new step by
 * returning a reason, e.g. a full queue; then nothing is stored.
 */
export function insertServiceStep(
  store: Database,
  step: NewServiceStep,
  admit: () => string | null = () => null,
): { created: boolean; step: ServiceStepRecord } | { refused: string } {
  return store.transaction(() => {
    const existing = getServiceStepByRequest(store, step.requestId);
    if (existing) return { created: false, step: existing };
    const refused = admit();
    if (refused !== null) return { refused };
    store.db
      .prepare(
        `INSERT INTO service_steps (step_id, request_id, kind, request, status, policy_version, policy_step, created_at)
         VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)`,
      )
      .run(step.stepId, step.requestId, step.kind, step.request, step.policyVersion, step.policyStep, now());
    return { created: true, step: getServiceStep(store, step.stepId)! };
  });
}

export function getServiceStep(store: Database, stepId: string): ServiceStepRecord | null {
  const row = store.db.prepare("SELECT * FROM service_steps WHERE step_id = ?").get(stepId);
  return row ? toRecord(row) : null;
}

export function getServiceStepByRequest(store: Database, requestId: string): ServiceStepRecord | null {
  const row = store.db.prepare("SELECT * FROM service_steps WHERE request_id = ?").get(requestId);
  return row ? toRecord(row) : null;
}

/** Steps with one of the statuses, oldest first. */
export function listServiceSteps(
  store: Database,
  statuses: readonly ServiceStepStatus[],
): ServiceStepRecord[] {
  const marks = statuses.map(() => "?").join(", ");
  return store.db
    .prepare(`SELECT * FROM service_steps WHERE status IN (${marks}) ORDER BY created_at, rowid`)
    .all(...statuses)
    .map(toRecord);
}

/** Counts by status, and how many ended since `since` (ISO time). */
export function serviceStepCounts(
  store: Database,
  since: string,
): Record<ServiceStepStatus, number> & { endedSince: number } {
  const counts = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0, endedSince: 0 };
  const rows = store.db.prepare("SELECT status, COUNT(*) AS n FROM service_steps GROUP BY status").all() as {
    status: ServiceStepStatus;
    n: number;
  }[];
  for (const row of rows) counts[row.status] = row.n;
  counts.endedSince = (
    store.db
      .prepare("SELECT COUNT(*) AS n FROM service_steps WHERE status = 'done' AND ended_at >= ?")
      .get(since) as { n: number }
  ).n;
  return counts;
}

/** A queued step starts on the given run step; false when it is no longer queued. */
export function startServiceStep(store: Database, stepId: string, runId: RunId, stepIndex: number): boolean {
  return (
    store.db
      .prepare(
        "UPDATE service_steps SET status = 'running', run_id = ?, step_index = ?, started_at = ? WHERE step_id = ? AND status = 'queued'",
      )
      .run(runId, stepIndex, now(), stepId).changes === 1
  );
}

/**
 * Ends a step that has not ended yet with its status, reason and result; false when it had already ended
 * (a finished result is never changed).
 */
export function endServiceStep(
  store: Database,
  stepId: string,
  end: { status: (typeof TERMINAL)[number]; reason: string | null; result: unknown },
): boolean {
  return (
    store.db
      .prepare(
        `UPDATE service_steps SET status = ?, reason = ?, result = ?, ended_at = ?
         WHERE step_id = ? AND status IN ('queued', 'running')`,
      )
      .run(end.status, end.reason, end.result === null ? null : JSON.stringify(end.result), now(), stepId)
      .changes === 1
  );
}

/** Marks a step acknowledged (its result may be pruned); false for an unknown step. */
export function ackServiceStep(store: Database, stepId: string): boolean {
  return (
    store.db
      .prepare("UPDATE service_steps SET acked_at = COALESCE(acked_at, ?) WHERE step_id = ?")
      .run(now(), stepId).changes === 1
  );
}

/** Drops the results of ended steps that were acknowledged, or ended before `expiredBefore`; returns how many. */
export function pruneServiceSteps(store: Database, expiredBefore: string): number {
  return store.db
    .prepare(
      `UPDATE service_steps SET result = NULL, pruned = 1
       WHERE pruned = 0 AND status IN ('done', 'failed', 'cancelled') AND (acked_at IS NOT NULL OR ended_at < ?)`,
    )
    .run(expiredBefore).changes;
}

/** Marks the episodes of one run step that are still running as aborted (a cancelled service step). */
export function abortStepEpisodes(store: Database, runId: RunId, stepIndex: number, reason: string): number {
  return store.db
    .prepare(
      "UPDATE episodes SET state = 'aborted', status = 'aborted', exit_reason = ?, ended_at = ? WHERE run_id = ? AND step_index = ? AND state = 'running'",
    )
    .run(reason, now(), runId, stepIndex).changes;
}

export function serviceState(store: Database, key: string): string | null {
  const row = store.db.prepare("SELECT value FROM service_state WHERE key = ?").get(key) as
    | { value: string }
    | undefined;
  return row?.value ?? null;
}

export function setServiceState(store: Database, key: string, value: string): void {
  store.db
    .prepare(
      "INSERT INTO service_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .run(key, value);
}

function now(): string {
  return new Date().toISOString();
}

/** A repair-only step: stored with its artifact, in state `validating`, so a step runner validates and solves it. */
export function insertRepairStep(
  store: Database & {
    insertArtifact(id: ArtifactId, artifact: BugArtifact): void;
    getStep(runId: RunId, stepIndex: number): StepRecord | null;
  },
  step: {
    runId: RunId;
    stepIndex: number;
    environment: string;
    seed: number;
    artifactId: ArtifactId;
    artifact: BugArtifact;
  },
): StepRecord {
  return store.transaction(() => {
    store.insertArtifact(step.artifactId, step.artifact);
    store.db
      .prepare(
        `INSERT OR IGNORE INTO steps (run_id, step_index, environment, strategy, seed, state, artifact_id, started_at)
         VALUES (?, ?, ?, ?, ?, 'validating', ?, ?)`,
      )
      .run(step.runId, step.stepIndex, step.environment, "repair", step.seed, step.artifactId, now());
    return store.getStep(step.runId, step.stepIndex)!;
  });
}

export interface StepEpisode {
  episodeId: string;
  role: "proposer" | "solver";
  status: string | null;
  exitReason: string | null;
  reward: number | null;
}

/** The episodes of one run step with their rewards, in start order (without their trajectories). */
export function stepEpisodes(store: Database, runId: RunId, stepIndex: number): StepEpisode[] {
  const rows = store.db
    .prepare(
      `SELECT e.id, e.role, e.status, e.exit_reason, r.value AS reward FROM episodes e
       LEFT JOIN rewards r ON r.episode_id = e.id
       WHERE e.run_id = ? AND e.step_index = ? ORDER BY e.started_at, e.rowid`,
    )
    .all(runId, stepIndex) as {
    id: string;
    role: "proposer" | "solver";
    status: string | null;
    exit_reason: string | null;
    reward: number | null;
  }[];
  return rows.map((row) => ({
    episodeId: row.id,
    role: row.role,
    status: row.status,
    exitReason: row.exit_reason,
    reward: row.reward,
  }));
}

/** The next free step index of a run. */
export function nextStepIndex(store: Database, runId: RunId): number {
  const row = store.db.prepare("SELECT MAX(step_index) AS last FROM steps WHERE run_id = ?").get(runId) as {
    last: number | null;
  };
  return row.last === null ? 0 : row.last + 1;
}
