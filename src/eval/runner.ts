// Runs an evaluation: a frozen task set, one policy, k attempts per task, through self-play's own step runner
// (one repair-only step per task: validation, k solver episodes in solver-task sandboxes, grading), in a run of
// its own, so sandboxes, episodes, grading and resume are self-play's. Finished attempts are never re-run.
import { createHash } from "node:crypto";
import type { SelfPlayConfig } from "../config/index.js";
import { InputError } from "../errors.js";
import { createLogger } from "../log.js";
import type { Policy } from "../ports/policy.js";
import type { SandboxBackend } from "../ports/sandbox.js";
import type { TestLocator } from "../ports/validation.js";
import {
  createStepRunner,
  deriveSeed,
  openRun,
  type SelfPlayEvent,
  type StepRunResult,
} from "../selfplay/index.js";
import {
  type ArtifactId,
  type EvaluationRecord,
  evaluationAttempts,
  evaluationProgress,
  getEvaluation,
  insertEvaluation,
  insertRepairStep,
  type RunId,
  reopenFailedSteps,
  type SqliteStore,
  setEvaluationStatus,
} from "../store/index.js";
import { type AttemptOutcome, type EvaluationFigures, evaluationFigures, toolCallCounts } from "./summary.js";
import { type EvalTask, resolveTasks, type TaskSetFile, taskSetId } from "./task-set.js";

const log = createLogger("eval");

export interface EvaluationDeps {
  /** Environments, concurrency, limits and thresholds; the group size is the attempts per task. */
  config: SelfPlayConfig;
  store: SqliteStore;
  sandboxes: SandboxBackend;
  policy: Policy;
  testLocator?: TestLocator;
  /** Aborts the evaluation; it can be resumed. */
  signal?: AbortSignal;
  onEvent?: (event: SelfPlayEvent) => void;
}

export interface EvaluationRequest {
  set: TaskSetFile;
  /** Where the set came from, for messages. */
  setPath: string;
  attempts: number;
  /** The policy's sampling settings: part of the evaluation's key. */
  sampling: Record<string, unknown>;
  /** Continue an evaluation of this set, policy and sampling that exists already. */
  resume: boolean;
  seed?: number;
}

export type EvaluationResult =
  | { status: "completed"; evaluation: EvaluationRecord; figures: EvaluationFigures }
  | {
      status: "interrupted" | "failed";
      evaluation: EvaluationRecord;
      error: string;
      done: number;
      total: number;
    };

/** Refuses what cannot run (attempts, unknown ids, changed artifacts, unconfigured environments) before any work. */
export function checkEvaluation(
  deps: Pick<EvaluationDeps, "config" | "store" | "policy">,
  request: Pick<EvaluationRequest, "set" | "setPath" | "attempts" | "sampling" | "resume">,
): EvalTask[] {
  const { attempts } = request;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new InputError("bad-attempts", `--attempts must be a whole number ≥ 1, got ${attempts}`);
  const tasks = resolveTasks(
    request.set,
    request.setPath,
    (id) => deps.store.getArtifact(id as ArtifactId)?.artifact ?? null,
  );
  const configured = deps.config.environments.map((environment) => environment.name);
  for (const task of tasks)
    if (!configured.includes(task.environment))
      throw new InputError(
        "unknown-environment",
        `task set ${request.setPath}, tasks.${task.index}: environment "${task.environment}" is not configured (configured: ${configured.join(", ") || "none"}); add it with --repo ${task.environment}=DIR or --image ${task.environment}=IMAGE`,
      );
  const id = evaluationId(request.set, deps.policy, canonicalJson(request.sampling), attempts);
  const existing = getEvaluation(deps.store, id);
  if (existing && !request.resume) {
    const { done, total } = evaluationProgress(deps.store, id);
    throw new InputError(
      "evaluation-exists",
      `evaluation ${id} of this set, policy and sampling exists (${existing.status}, ${done} of ${total} attempts done): pass --resume to continue it`,
    );
  }
  return tasks;
}

/** The evaluation's id: the set, the policy and its sampling, and the attempts per task. */
export function evaluationId(set: TaskSetFile, policy: Policy, sampling: string, attempts: number): string {
  const { kind, name, version } = policy.info;
  const key = [taskSetId(set), kind, name, version, sampling, attempts].join("\n");
  return `ev-${createHash("sha256").update(key).digest("hex").slice(0, 16)}`;
}

export async function runEvaluation(
  deps: EvaluationDeps,
  request: EvaluationRequest,
): Promise<EvaluationResult> {
  const tasks = checkEvaluation(deps, request);
  const { store } = deps;
  const sampling = canonicalJson(request.sampling);
  const id = evaluationId(request.set, deps.policy, sampling, request.attempts);
  const evaluation = openEvaluation(deps, request, tasks, id, sampling);
  const config = { ...deps.config, groupSize: request.attempts };
  const runner = createStepRunner({
    config,
    store,
    sandboxes: deps.sandboxes,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.testLocator ? { testLocator: deps.testLocator } : {}),
  });
  // The first failing task stops the others: a model server that went away fails them all anyway.
  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  let results: StepRunResult[];
  try {
    results = await Promise.all(
      tasks.map(async (task) => {
        const step = store.getStep(evaluation.runId, task.index)!;
        if (step.state === "done") return { status: "finished", step } as StepRunResult;
        const result = await runner.runStep(
          { step, resumed: request.resume, proposer: deps.policy, repairOnly: true },
          { signal, ...(deps.onEvent ? { onEvent: deps.onEvent } : {}) },
        );
        if (result.status === "failed") stop.abort();
        return result;
      }),
    );
  } finally {
    await runner.close();
  }
  return finishEvaluation(deps, evaluation, tasks.length, request.attempts, results);
}

/** A new evaluation with its run and one repair-only step per task, or the stored one on --resume. */
function openEvaluation(
  deps: EvaluationDeps,
  request: EvaluationRequest,
  tasks: readonly EvalTask[],
  id: string,
  sampling: string,
): EvaluationRecord {
  const { store, policy, config } = deps;
  const existing = getEvaluation(store, id);
  if (existing) {
    openRun(store, config, { resume: existing.runId });
    reopenFailedSteps(store, existing.runId);
    setEvaluationStatus(store, id, "running");
    return getEvaluation(store, id)!;
  }
  const runId = `eval-${id.slice(3)}` as RunId;
  const seed = request.seed ?? 0;
  return store.transaction(() => {
    openRun(store, config, {
      create: { id: runId, seed, config: { ...config, groupSize: request.attempts } },
    });
    for (const task of tasks)
      insertRepairStep(store, {
        runId,
        stepIndex: task.index,
        environment: task.environment,
        seed: deriveSeed(seed, "eval", task.index),
        artifactId: task.artifactId as ArtifactId,
        artifact: task.artifact,
      });
    return insertEvaluation(store, {
      id,
      taskSetId: taskSetId(request.set),
      taskSetName: request.set.name,
      policyKind: policy.info.kind,
      policyName: policy.info.name,
      policyVersion: policy.info.version,
      sampling,
      attempts: request.attempts,
      runId,
      tasks: tasks.map((task) => ({
        taskIndex: task.index,
        artifactId: task.artifactId as ArtifactId,
        environment: task.environment,
        strategy: task.strategy,
      })),
    });
  });
}

function finishEvaluation(
  deps: EvaluationDeps,
  evaluation: EvaluationRecord,
  taskCount: number,
  attempts: number,
  results: readonly StepRunResult[],
): EvaluationResult {
  const { store } = deps;
  const failed = results.find((result) => result.status === "failed");
  const unfinished = failed ?? results.find((result) => result.status === "interrupted");
  if (unfinished) {
    const status = failed ? "failed" : "interrupted";
    const error = failed && failed.status === "failed" ? failed.error : "interrupted";
    store.setRunStatus(evaluation.runId, status === "failed" ? "failed" : "interrupted");
    setEvaluationStatus(store, evaluation.id, status, { error });
    const { done, total } = evaluationProgress(store, evaluation.id);
    log.warn("evaluation stopped", { evaluation: evaluation.id, status, done, total, error });
    return { status, evaluation: getEvaluation(store, evaluation.id)!, error, done, total };
  }
  const figures = figuresOf(store, evaluation.id, taskCount, attempts);
  store.setRunStatus(evaluation.runId, "completed");
  setEvaluationStatus(store, evaluation.id, "completed", { figures });
  return { status: "completed", evaluation: getEvaluation(store, evaluation.id)!, figures };
}

/** The figures of an evaluation from its stored attempts. */
export function figuresOf(
  store: SqliteStore,
  id: string,
  taskCount: number,
  attempts: number,
): EvaluationFigures {
  const outcomes = attemptOutcomes(store, id);
  const attempted = new Set(outcomes.map((outcome) => outcome.taskIndex)).size;
  return evaluationFigures(outcomes, {
    tasks: taskCount,
    invalidTasks: taskCount - attempted,
    attemptsPerTask: attempts,
  });
}

export function attemptOutcomes(store: SqliteStore, id: string): AttemptOutcome[] {
  const levels = new Map<string, string>();
  const difficultyOf = (artifactId: ArtifactId): string => {
    let level = levels.get(artifactId);
    if (level === undefined) {
      level = String(store.getArtifact(artifactId)?.meta.difficulty ?? "unknown");
      levels.set(artifactId, level);
    }
    return level;
  };
  return evaluationAttempts(store, id).map((row) => ({
    taskIndex: row.taskIndex,
    environment: row.environment,
    strategy: row.strategy,
    difficulty: difficultyOf(row.artifactId),
    attemptIndex: row.attemptIndex,
    resolved: row.resolved,
    gradeStatus: row.gradeStatus,
    exitReason: row.exitReason,
    toolCalls: toolCallCounts(row.trajectory),
    sampledTokens: row.sampledTokens,
    contextTokens: row.stats.contextTokens ?? 0,
    wallMs: episodeMs(row.startedAt, row.endedAt) + row.gradeMs,
  }));
}

function episodeMs(startedAt: string | null, endedAt: string | null): number {
  if (!startedAt || !endedAt) return 0;
  return Math.max(0, Date.parse(endedAt) - Date.parse(startedAt));
}

/** JSON with sorted keys, so equal settings compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}
