// runSelfPlay: opens what the configuration names (store, sandboxes, policy), runs the orchestrator and
// returns the summary. Callers may pass their own store, sandboxes or policy (the CLI passes the policy).
import { createBuiltinPolicy } from "../builtin/index.js";
import type { SelfPlayConfig } from "../config/index.js";
import { InputError } from "../errors.js";
import type { Policy } from "../ports/policy.js";
import type { SandboxBackend } from "../ports/sandbox.js";
import { openSandboxes } from "../sandbox/index.js";
import { openStore, type RunId, type Store } from "../store/index.js";
import type { SelfPlayEvent } from "./events.js";
import { type OrchestratorResult, orchestrate } from "./orchestrator.js";
import { type RunSummary, summarizeRun } from "./summary.js";

export interface RunSelfPlayOptions {
  /** Aborts in-flight work; the store stays consistent and a later run resumes. */
  signal?: AbortSignal;
  /** Stops starting new steps and lets in-flight ones finish. */
  drainSignal?: AbortSignal;
  /** Default: opens config.store (and closes it at the end). */
  store?: Store;
  onEvent?: (event: SelfPlayEvent) => void;
  /** Default: the built-in policy when config.policy is builtin; required otherwise. */
  policy?: Policy;
  /** Default: openSandboxes() (local for directories, Docker for images); closed at the end. */
  sandboxes?: SandboxBackend;
  /** Start a fresh run even when the store holds one. */
  newRun?: boolean;
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
  options: RunSelfPlayOptions = {},
): Promise<SelfPlayResult> {
  const policy = options.policy ?? defaultPolicy(config);
  const store = options.store ?? openStore(config.store);
  const sandboxes = options.sandboxes ?? openSandboxes();
  try {
    const stepsBefore = store.latestRun() && !options.newRun ? countFinished(store) : 0;
    const result = await orchestrate({
      config,
      store,
      policy,
      sandboxes,
      signal: options.signal,
      drainSignal: options.drainSignal,
      onEvent: options.onEvent,
      newRun: options.newRun,
    });
    const wallTimeMs = result.endedAt - result.startedAt;
    const finishedNow = store
      .listSteps(result.runId)
      .filter((step) => step.state === "done" || step.state === "failed").length;
    const summary = summarizeRun(store, result.runId, {
      wallTimeMs,
      stepsThisStart: Math.max(0, finishedNow - stepsBefore),
    });
    return {
      summary,
      runId: result.runId,
      status: result.status,
      resumed: result.resumed,
      stages: result.stages,
    };
  } finally {
    if (!options.sandboxes) await sandboxes.close();
    if (!options.store) store.close();
  }
}

function countFinished(store: Store): number {
  const run = store.latestRun();
  if (!run) return 0;
  return store.listSteps(run.id).filter((step) => step.state === "done" || step.state === "failed").length;
}

function defaultPolicy(config: SelfPlayConfig): Policy {
  if (config.policy.kind === "builtin")
    return createBuiltinPolicy(
      config.policy.testRunBudget === undefined ? {} : { testRunBudget: config.policy.testRunBudget },
    );
  throw new InputError(
    "policy-required",
    "runSelfPlay with an openai policy needs a Policy object: build one with createAgentPolicy and pass it as `policy`",
  );
}
