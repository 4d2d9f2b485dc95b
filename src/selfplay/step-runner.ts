// The step runner: one self-play step on demand (proposer stage → validation → solver groups → second
// order), from whatever state the store holds for it. The `run` scheduler and the service both call it;
// each step names its own policies (proposer and solver may differ) and group size.
import { setMaxListeners } from "node:events";
import { Semaphore } from "../concurrency/semaphore.js";
import type { SelfPlayConfig } from "../config/index.js";
import { errorMessage, InfrastructureError, InputError } from "../errors.js";
import { createLogger } from "../log.js";
import type { Strategy } from "../ports/artifact.js";
import type { Policy } from "../ports/policy.js";
import type { SandboxBackend } from "../ports/sandbox.js";
import type { RunId, StepRecord, Store } from "../ports/store.js";
import type { TestLocator } from "../ports/validation.js";
import { createValidator } from "../validation/index.js";
import { DuplicateRegistry } from "./dedupe.js";
import { EarlyStop } from "./early-stop.js";
import { unservedStrategies } from "./environment-probe.js";
import type { SelfPlayEvent } from "./events.js";
import { proposerStage } from "./proposer-stage.js";
import { limitSandboxes } from "./sandbox-limit.js";
import { runGroup } from "./solver-groups.js";
import { environmentsOf, Interrupted, type RunnerParts, type StepScope } from "./step-context.js";
import { validationStage } from "./validation-stage.js";

const log = createLogger("selfplay");

export interface StepRunnerDeps {
  config: SelfPlayConfig;
  store: Store;
  sandboxes: SandboxBackend;
  /** Aborts every step in flight and every wait for a sandbox (the run is interrupted or the service stops). */
  signal?: AbortSignal;
  /** Lets validation see which tests a weakening edits (the composition root gives the code model's). */
  testLocator?: TestLocator;
}

export interface StepRequest {
  /** The stored step (environment, strategy and seed chosen); it runs on from its stored state. */
  step: StepRecord;
  /** True when the step was started before (a resumed run or service). */
  resumed?: boolean;
  proposer: Policy;
  /** Default: the proposer's policy. */
  solver?: Policy;
  /** Solver attempts per valid artifact; default config.groupSize. */
  groupSize?: number;
  /**
   * Repair only (a step stored in state `validating` with a given artifact): no duplicate check, no
   * proposer reward, no second-order bugs.
   */
  repairOnly?: boolean;
}

export interface StepRunOptions {
  /** Aborts this step only; it ends `interrupted` and nothing more is recorded for it. */
  signal?: AbortSignal;
  onEvent?: (event: SelfPlayEvent) => void;
}

export type StepRunResult =
  | { status: "finished"; step: StepRecord }
  | { status: "failed"; step: StepRecord; error: string }
  | { status: "interrupted" };

export interface StepRunner {
  runStep(request: StepRequest, options?: StepRunOptions): Promise<StepRunResult>;
  /** Makes the artifacts a run already judged known as duplicates (a resumed run or service). */
  knowRun(runId: RunId): void;
  /** The strategies each configured environment cannot serve (history without a commit to revert). */
  unservedStrategies(): Promise<Map<string, Strategy[]>>;
  readonly stages: { proposers: Semaphore; validations: Semaphore; solvers: Semaphore; sandboxes: Semaphore };
  close(): Promise<void>;
}

export function createStepRunner(deps: StepRunnerDeps): StepRunner {
  const { config } = deps;
  const signal = deps.signal ?? new AbortController().signal;
  const concurrency = config.concurrency;
  const sandboxes = limitSandboxes(deps.sandboxes, concurrency.sandboxes, signal);
  const parts: RunnerParts = {
    config,
    store: deps.store,
    sandboxes,
    validator: createValidator({
      sandboxes,
      thresholds: config.thresholds,
      concurrency: concurrency.validationTestRuns,
      ...(deps.testLocator ? { testLocator: deps.testLocator } : {}),
    }),
    stages: {
      proposers: new Semaphore("proposers", concurrency.proposers),
      validations: new Semaphore("validations", concurrency.validations),
      solvers: new Semaphore("solvers", concurrency.solvers),
    },
    environments: environmentsOf(config),
    earlyStop: new EarlyStop(config.limits.earlyStopSteps),
    duplicates: new DuplicateRegistry(),
    secondOrderClaims: new Set(),
  };
  if (parts.environments.size === 0)
    throw new InputError(
      "no-environment",
      "the configuration names no environment: add one under `environments`",
    );
  return {
    runStep: (request, options = {}) => runStep(parts, signal, request, options),
    knowRun: (runId) => knowRun(parts, runId),
    unservedStrategies: () => probeEnvironments(parts, signal),
    stages: { ...parts.stages, sandboxes: sandboxes.slots },
    close: () => parts.validator.close(),
  };
}

/** Probes the environments one after the other (each probe holds a sandbox for a moment). */
async function probeEnvironments(parts: RunnerParts, signal: AbortSignal): Promise<Map<string, Strategy[]>> {
  const unserved = new Map<string, Strategy[]>();
  for (const [name, environment] of parts.environments)
    unserved.set(
      name,
      await unservedStrategies(parts.sandboxes, environment, {
        limits: parts.config.sandbox,
        abortSignal: signal,
      }),
    );
  return unserved;
}

function knowRun(parts: RunnerParts, runId: RunId): void {
  parts.duplicates.seed(
    parts.store.listSteps(runId).flatMap((step) => {
      if (step.artifactId === null || (step.outcome !== "valid" && step.outcome !== "invalid")) return [];
      const stored = parts.store.getArtifact(step.artifactId);
      return stored
        ? [
            {
              stepIndex: step.stepIndex,
              artifactId: step.artifactId,
              verdict: step.outcome,
              artifact: stored.artifact,
            },
          ]
        : [];
    }),
  );
}

async function runStep(
  parts: RunnerParts,
  runnerSignal: AbortSignal,
  request: StepRequest,
  options: StepRunOptions,
): Promise<StepRunResult> {
  const signal = options.signal ? AbortSignal.any([runnerSignal, options.signal]) : runnerSignal;
  // Every waiting permit and running episode of the step listens to its signal.
  setMaxListeners(0, signal);
  const scope: StepScope = {
    ...parts,
    runId: request.step.runId,
    proposer: request.proposer,
    solver: request.solver ?? request.proposer,
    groupSize: request.groupSize ?? parts.config.groupSize,
    repairOnly: request.repairOnly ?? false,
    signal,
    emit: (event) => {
      try {
        options.onEvent?.(event);
      } catch (error) {
        log.warn("event listener failed", { event: event.type, error: errorMessage(error) });
      }
    },
  };
  const initial = request.step;
  scope.emit({
    type: "step-started",
    stepIndex: initial.stepIndex,
    environment: initial.environment,
    strategy: initial.strategy,
    resumed: request.resumed ?? false,
  });
  try {
    const step = await playStages(scope, initial);
    return { status: "finished", step };
  } catch (error) {
    if (signal.aborted || error instanceof Interrupted) return { status: "interrupted" };
    return { status: "failed", step: failStep(scope, initial, error), error: errorMessage(error) };
  }
}

/** Runs the stages the stored state still needs, then records the environment's success. */
async function playStages(scope: StepScope, initial: StepRecord): Promise<StepRecord> {
  const { store, runId } = scope;
  const { stepIndex } = initial;
  let step = initial;
  if (step.state === "proposing") {
    await proposerStage(scope, step);
    step = store.getStep(runId, stepIndex)!;
  }
  if (step.state === "validating") {
    await validationStage(scope, step);
    step = store.getStep(runId, stepIndex)!;
  }
  if (step.state === "solving") {
    for (const group of store.listGroups(runId, stepIndex)) {
      if (group.order === 1) await runGroup(scope, group, step);
    }
    store.completeStep(runId, stepIndex);
    step = store.getStep(runId, stepIndex)!;
  }
  store.recordEnvironmentSuccess(runId, step.environment);
  const reward = step.episodeId ? (store.getReward(step.episodeId)?.value ?? null) : null;
  scope.emit({
    type: "step-finished",
    stepIndex,
    outcome: step.outcome ?? step.state,
    proposerReward: reward,
  });
  return step;
}

/** Records a step's failure; an infrastructure or input failure counts against its environment. */
function failStep(scope: StepScope, initial: StepRecord, error: unknown): StepRecord {
  const { stepIndex, environment } = initial;
  const message = errorMessage(error);
  log.error("step failed", { step: stepIndex, environment, error: message });
  scope.store.failStep(scope.runId, stepIndex, message);
  scope.emit({ type: "step-failed", stepIndex, environment, error: message });
  if (error instanceof InfrastructureError || error instanceof InputError) {
    const disabled = scope.store.recordEnvironmentFailure(
      scope.runId,
      environment,
      message,
      scope.config.limits.maxEnvironmentFailures,
    );
    if (disabled) scope.emit({ type: "environment-disabled", environment, reason: message });
  }
  return scope.store.getStep(scope.runId, stepIndex) ?? initial;
}
