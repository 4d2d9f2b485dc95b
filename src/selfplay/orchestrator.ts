// The run loop: a scheduler around the step runner. It opens or resumes the store's run, starts steps
// under the pipeline semaphore (environment round-robin, strategy by weight, seeds from the run's seed),
// and ends the run on its step count, its duration, an interrupt or a drain. Every transition is written
// to the store before the next begins, so a restarted run continues exactly where it stopped.
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { Semaphore } from "../concurrency/semaphore.js";
import type { SelfPlayConfig } from "../config/index.js";
import { errorMessage } from "../errors.js";
import { createLogger } from "../log.js";
import type { Strategy } from "../ports/artifact.js";
import type { Policy } from "../ports/policy.js";
import type { SandboxBackend } from "../ports/sandbox.js";
import type { RunId, StepRecord, Store } from "../ports/store.js";
import type { TestLocator } from "../ports/validation.js";
import type { SelfPlayEvent } from "./events.js";
import { openRun } from "./run-lifecycle.js";
import { NextSteps } from "./step-choice.js";
import { Interrupted } from "./step-context.js";
import { createStepRunner, type StepRunner } from "./step-runner.js";
import { isFinished } from "./step-state.js";

const log = createLogger("selfplay");

export interface OrchestratorOptions {
  config: SelfPlayConfig;
  store: Store;
  /** The policy of both roles, unless `solverPolicy` names another for the solvers. */
  policy: Policy;
  solverPolicy?: Policy;
  sandboxes: SandboxBackend;
  /** Aborts in-flight work; the run ends as interrupted and a later run resumes it. */
  signal?: AbortSignal;
  /** Stops starting new steps; in-flight steps finish (graceful drain). */
  drainSignal?: AbortSignal;
  onEvent?: (event: SelfPlayEvent) => void;
  /** Start a fresh run even when the store holds one to resume. */
  newRun?: boolean;
  /** Lets validation see which tests a weakening edits (the composition root gives the code model's). */
  testLocator?: TestLocator;
}

export interface OrchestratorResult {
  runId: RunId;
  status: "completed" | "interrupted" | "failed";
  resumed: boolean;
  startedAt: number;
  endedAt: number;
  /** Semaphores of the stages, for back-pressure checks and benchmarks. */
  stages: Record<"pipeline" | "proposers" | "validations" | "solvers" | "sandboxes", Semaphore>;
}

type StopReason = "interrupted" | "duration" | "steps" | "no-environment";

export async function orchestrate(options: OrchestratorOptions): Promise<OrchestratorResult> {
  return new Scheduler(options).run();
}

class Scheduler {
  private readonly config: SelfPlayConfig;
  private readonly store: Store;
  /** Aborted on interrupt or when the duration is over. */
  private readonly abort = new AbortController();
  /** Aborted to wake the step loop when the run drains (no new steps, in-flight ones finish). */
  private readonly drainWaiters = new AbortController();
  private readonly pipeline: Semaphore;
  private readonly runner: StepRunner;
  private nextSteps!: NextSteps;
  private readonly inFlight = new Set<Promise<void>>();
  private stopReason: StopReason | null = null;
  private runId!: RunId;

  constructor(private readonly options: OrchestratorOptions) {
    this.config = options.config;
    this.store = options.store;
    setMaxListeners(0, this.abort.signal, this.drainWaiters.signal);
    const concurrency = this.config.concurrency;
    this.pipeline = new Semaphore(
      "pipeline",
      concurrency.pipelineSteps ?? concurrency.proposers + concurrency.validations + 1,
    );
    this.runner = createStepRunner({
      config: this.config,
      store: this.store,
      sandboxes: options.sandboxes,
      signal: this.abort.signal,
      ...(options.testLocator ? { testLocator: options.testLocator } : {}),
    });
  }

  private emit(event: SelfPlayEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (error) {
      log.warn("event listener failed", { event: event.type, error: errorMessage(error) });
    }
  }

  async run(): Promise<OrchestratorResult> {
    const startedAt = Date.now();
    const resumed = this.openRun();
    const onInterrupt = () => this.stop("interrupted", true);
    const onDrain = () => this.stop("interrupted", false);
    if (this.options.signal?.aborted) onInterrupt();
    this.options.signal?.addEventListener("abort", onInterrupt, { once: true });
    this.options.drainSignal?.addEventListener("abort", onDrain, { once: true });
    const durationMs = this.config.limits.durationMs;
    const durationTimer = durationMs ? setTimeout(() => this.stop("duration", true), durationMs) : undefined;
    durationTimer?.unref?.();
    // The heartbeat records that the run is alive and, being a referenced timer, keeps the process alive
    // while every piece of work waits on something that holds no handle of its own.
    const heartbeat = setInterval(() => this.store.touchRun(this.runId), 5000);
    try {
      await this.probeEnvironments();
      await this.schedule(resumed);
    } finally {
      if (durationTimer) clearTimeout(durationTimer);
      clearInterval(heartbeat);
      await this.runner.close();
      this.options.signal?.removeEventListener("abort", onInterrupt);
      this.options.drainSignal?.removeEventListener("abort", onDrain);
    }
    const status = this.finish();
    return {
      runId: this.runId,
      status,
      resumed,
      startedAt,
      endedAt: Date.now(),
      stages: { pipeline: this.pipeline, ...this.runner.stages },
    };
  }

  /** Learns what the environments cannot serve before choosing a step, when a strategy depends on it. */
  private async probeEnvironments(): Promise<void> {
    if (this.config.strategies.history <= 0 || this.stopReason) return;
    const unserved = await this.runner.unservedStrategies().catch((error: unknown) => {
      if (this.abort.signal.aborted) return new Map<string, Strategy[]>();
      throw error;
    });
    for (const [environment, strategies] of unserved)
      if (strategies.length > 0)
        log.info("strategies this environment cannot serve", { environment, strategies });
    this.nextSteps.knowUnserved(unserved);
  }

  /** Resumes the unfinished steps, then starts new ones until the run stops; waits for all of them. */
  private async schedule(resumed: boolean): Promise<void> {
    const steps = this.store.listSteps(this.runId);
    this.emit({
      type: "run-started",
      runId: this.runId,
      resumed,
      stepsDone: steps.filter(isFinished).length,
      stepsTarget: this.config.limits.steps ?? null,
    });
    for (const step of steps) {
      if (isFinished(step)) continue;
      const release = await this.acquirePipeline();
      if (!release) break;
      this.launch(step, release, true);
    }
    let nextIndex = steps.length === 0 ? 0 : Math.max(...steps.map((step) => step.stepIndex)) + 1;
    while (!this.stopReason) {
      if (this.config.limits.steps !== undefined && nextIndex >= this.config.limits.steps) {
        this.stopReason = "steps";
        break;
      }
      const release = await this.acquirePipeline();
      if (!release) break;
      const step = this.nextSteps.insert(nextIndex);
      if (!step) {
        release();
        this.stop("no-environment", false);
        break;
      }
      nextIndex++;
      this.launch(step, release, false);
    }
    if (this.stopReason) this.emit({ type: "run-stopping", reason: this.stopReason });
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private launch(step: StepRecord, release: () => void, resumed: boolean): void {
    const work = this.runner
      .runStep(
        { step, resumed, proposer: this.options.policy, solver: this.options.solverPolicy },
        { onEvent: (event) => this.emit(event) },
      )
      .then(() => undefined)
      // The runner records its own failures; what reaches here is a broken store, which ends the step only.
      .catch((error: unknown) =>
        log.error("step could not be recorded", { step: step.stepIndex, error: errorMessage(error) }),
      )
      .finally(() => {
        release();
        this.inFlight.delete(work);
      });
    this.inFlight.add(work);
  }

  /** The run's final status, stored and announced. */
  private finish(): OrchestratorResult["status"] {
    const aborted = this.store.abortRunningEpisodes(this.runId, "interrupted");
    if (aborted > 0) log.info("episodes in flight marked aborted", { count: aborted });
    const unfinished = this.store.listSteps(this.runId).some((step) => !isFinished(step));
    // A run whose every environment was taken out cannot work, whatever else stopped it.
    const configured = new Set(this.config.environments.map((environment) => environment.name));
    const allTakenOut = this.store
      .listEnvironments(this.runId)
      .filter((environment) => configured.has(environment.name))
      .every((environment) => environment.status === "disabled");
    const status =
      this.stopReason === "no-environment" || allTakenOut
        ? "failed"
        : unfinished || this.stopReason === "interrupted" || this.stopReason === "duration"
          ? "interrupted"
          : "completed";
    this.store.setRunStatus(this.runId, status);
    this.emit({ type: "run-finished", runId: this.runId, status });
    return status;
  }

  /** Opens the run to continue (the store's latest) or creates one; returns true when resuming. */
  private openRun(): boolean {
    const latest = this.options.newRun ? null : this.store.latestRun();
    const { run, resumed, abortedEpisodes } = openRun(this.store, this.config, {
      resume: latest?.id ?? null,
      create: { id: newRunId(), seed: this.config.seed },
    });
    this.runId = run.id;
    if (resumed) {
      if (run.seed !== this.config.seed)
        log.warn("resuming with the run's original seed", {
          runSeed: run.seed,
          configSeed: this.config.seed,
        });
      log.info("resuming run", { runId: this.runId, start: run.starts, abortedEpisodes });
    } else log.info("new run", { runId: this.runId, store: this.store.path });
    this.nextSteps = new NextSteps(this.config, this.store, run);
    this.runner.knowRun(this.runId);
    return resumed;
  }

  private stop(reason: StopReason, abortInFlight: boolean): void {
    if (!this.stopReason) this.stopReason = reason;
    if (abortInFlight && !this.abort.signal.aborted) this.abort.abort(new Interrupted(reason));
    // Wake the step loop if it waits for a pipeline slot.
    if (!abortInFlight) this.drainWaiters.abort();
  }

  /** A pipeline permit, unless the run stops first (then null). */
  private async acquirePipeline(): Promise<(() => void) | null> {
    if (this.stopReason) return null;
    try {
      return await this.pipeline.acquire(AbortSignal.any([this.abort.signal, this.drainWaiters.signal]));
    } catch {
      return null;
    }
  }
}

export function newRunId(): RunId {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  return `run-${stamp}-${randomBytes(3).toString("hex")}` as RunId;
}
