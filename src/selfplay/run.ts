// runSelfPlay: runs the orchestrator on the store, sandboxes and policy it is given (the composition root,
// src/compose/, picks them from the configuration) and returns the run's summary.
import type { SelfPlayConfig } from "../config/index.js";
import type { Policy } from "../ports/policy.js";
import type { SandboxBackend } from "../ports/sandbox.js";
import type { RunId, Store } from "../ports/store.js";
import type { TestLocator } from "../ports/validation.js";
import type { SelfPlayEvent } from "./events.js";
import { type OrchestratorResult, orchestrate } from "./orchestrator.js";
import { isFinished } from "./step-state.js";
import { type RunSummary, summarizeRun } from "./summary.js";

export interface RunSelfPlayOptions {
  store: Store;
  sandboxes: SandboxBackend;
  /** The policy of both roles, unless `solverPolicy` names another for the solvers. */
  policy: Policy;
  solverPolicy?: Policy;
  /** Aborts in-flight work; the store stays consistent and a later run resumes. */
  signal?: AbortSignal;
  /** Stops starting new steps and lets in-flight ones finish. */
  drainSignal?: AbortSignal;
  onEvent?: (event: SelfPlayEvent) => void;
  /** Start a fresh run even when the store holds one. */
  newRun?: boolean;
  /** Lets validation see which tests a weakening edits (the composition root gives the code model's). */
  testLocator?: TestLocator;
}

export interface SelfPlayResult {
  summary: RunSummary;
  runId: RunId;
  status: OrchestratorResult["status"];
  resumed: boolean;
  /** Stage semaphores with their peak use, for back-pressure checks and benchmarks. */
  stages: OrchestratorResult["stages"];
}

export async function runSelfPlay(
  config: SelfPlayConfig,
  options: RunSelfPlayOptions,
): Promise<SelfPlayResult> {
  const { store } = options;
  const stepsBefore = store.latestRun() && !options.newRun ? countFinished(store) : 0;
  const result = await orchestrate({ config, ...options });
  const finishedNow = store.listSteps(result.runId).filter(isFinished).length;
  const summary = summarizeRun(store, result.runId, {
    wallTimeMs: result.endedAt - result.startedAt,
    stepsThisStart: Math.max(0, finishedNow - stepsBefore),
  });
  return {
    summary,
    runId: result.runId,
    status: result.status,
    resumed: result.resumed,
    stages: result.stages,
  };
}

function countFinished(store: Store): number {
  const run = store.latestRun();
  if (!run) return 0;
  return store.listSteps(run.id).filter(isFinished).length;
}
