// The self-play loop: proposer steps → validation → G solver attempts → grading → rewards, with
// second-order groups from failed attempts. Stages run concurrently under semaphores; every transition is
// written to the store before the next begins, so a restarted run continues exactly where it stopped.
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { artifactId as contentId } from "../artifact/index.js";
import { Semaphore } from "../concurrency/semaphore.js";
import type { SelfPlayConfig } from "../config/index.js";
import { errorMessage, InfrastructureError, InputError } from "../errors.js";
import { createLogger } from "../log.js";
import type { BugArtifact, Strategy } from "../ports/artifact.js";
import type { Policy, PolicyEpisode } from "../ports/policy.js";
import type { Environment, SandboxBackend } from "../ports/sandbox.js";
import { viewOf } from "../ports/sandbox.js";
import type { GradeResult, ValidationReport } from "../ports/validation.js";
import type {
  ArtifactId,
  AttemptRecord,
  CandidateRecord,
  EpisodeId,
  GroupId,
  GroupRecord,
  NewGroup,
  RewardInput,
  RunId,
  RunRecord,
  StepRecord,
  Store,
} from "../store/index.js";
import {
  createSolverTask,
  createValidator,
  grade,
  makeSecondOrderArtifact,
  proposerReward,
  solverReward,
  type Validator,
} from "../validation/index.js";
import { DuplicateRegistry, duplicateReward } from "./dedupe.js";
import { EarlyStop } from "./early-stop.js";
import type { SelfPlayEvent } from "./events.js";
import { holdingSandbox, type LimitedSandboxBackend, limitSandboxes } from "./sandbox-limit.js";
import { chooseStrategy, deriveSeed } from "./seeds.js";
import {
  configuredWeights,
  strategyOutcomes,
  strategyWeights,
  UNAVAILABLE_PREFIX,
} from "./strategy-weights.js";

const log = createLogger("selfplay");

export interface OrchestratorOptions {
  config: SelfPlayConfig;
  store: Store;
  policy: Policy;
  sandboxes: SandboxBackend;
  /** Aborts in-flight work; the run ends as interrupted and a later run resumes it. */
  signal?: AbortSignal;
  /** Stops starting new steps; in-flight steps finish (graceful drain). */
  drainSignal?: AbortSignal;
  onEvent?: (event: SelfPlayEvent) => void;
  /** Start a fresh run even when the store holds one to resume. */
  newRun?: boolean;
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

/** Why a unit of work stopped without a result: the run was interrupted, nothing to record. */
class Interrupted extends Error {}

export async function orchestrate(options: OrchestratorOptions): Promise<OrchestratorResult> {
  const orchestrator = new Orchestrator(options);
  return orchestrator.run();
}

class Orchestrator {
  private readonly config: SelfPlayConfig;
  private readonly store: Store;
  private readonly policy: Policy;
  private readonly sandboxes: LimitedSandboxBackend;
  private readonly validator: Validator;
  private readonly emit: (event: SelfPlayEvent) => void;
  /** Aborted on interrupt or when the duration is over. */
  private readonly abort = new AbortController();
  /** Aborted to wake the step loop when the run drains (no new steps, in-flight ones finish). */
  private readonly drainWaiters = new AbortController();
  private readonly pipeline: Semaphore;
  private readonly proposers: Semaphore;
  private readonly validations: Semaphore;
  private readonly solvers: Semaphore;
  private readonly environments = new Map<string, Environment>();
  private readonly earlyStop: EarlyStop;
  private readonly duplicates = new DuplicateRegistry();
  /** Second-order artifacts being validated or solved in this process. */
  private readonly secondOrderClaims = new Set<string>();
  /** (environment, strategy) pairs already logged as unavailable: one line each. */
  private readonly unavailableLogged = new Set<string>();
  private stopReason: "interrupted" | "duration" | "steps" | "no-environment" | null = null;
  private runId!: RunId;
  private record!: RunRecord;

  constructor(private readonly options: OrchestratorOptions) {
    this.config = options.config;
    this.store = options.store;
    this.policy = options.policy;
    const concurrency = this.config.concurrency;
    // Every waiting permit and running episode listens to the run's signal.
    setMaxListeners(0, this.abort.signal, this.drainWaiters.signal);
    this.sandboxes = limitSandboxes(options.sandboxes, concurrency.sandboxes, this.abort.signal);
    this.validator = createValidator({
      sandboxes: this.sandboxes,
      thresholds: this.config.thresholds,
      concurrency: concurrency.validationTestRuns,
    });
    this.pipeline = new Semaphore(
      "pipeline",
      concurrency.pipelineSteps ?? concurrency.proposers + concurrency.validations + 1,
    );
    this.proposers = new Semaphore("proposers", concurrency.proposers);
    this.validations = new Semaphore("validations", concurrency.validations);
    this.solvers = new Semaphore("solvers", concurrency.solvers);
    this.earlyStop = new EarlyStop(this.config.limits.earlyStopSteps);
    this.emit = (event) => {
      try {
        options.onEvent?.(event);
      } catch (error) {
        log.warn("event listener failed", { event: event.type, error: errorMessage(error) });
      }
    };
    for (const environment of this.config.environments) {
      this.environments.set(
        environment.name,
        "path" in environment
          ? { kind: "dir", path: environment.path }
          : {
              kind: "image",
              image: environment.image,
              ...(environment.workdir ? { workdir: environment.workdir } : {}),
            },
      );
    }
    if (this.environments.size === 0)
      throw new InputError(
        "no-environment",
        "the configuration names no environment: add one under `environments`",
      );
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
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

    const steps = this.store.listSteps(this.runId);
    this.emit({
      type: "run-started",
      runId: this.runId,
      resumed,
      stepsDone: steps.filter((step) => step.state === "done" || step.state === "failed").length,
      stepsTarget: this.config.limits.steps ?? null,
    });
    const inFlight = new Set<Promise<void>>();
    const launch = (step: StepRecord, release: () => void, resumedStep: boolean) => {
      const work = this.runStep(step, resumedStep)
        // runStep records its own failures; what reaches here is a broken store, which ends the step only.
        .catch((error: unknown) =>
          log.error("step could not be recorded", { step: step.stepIndex, error: errorMessage(error) }),
        )
        .finally(() => {
          release();
          inFlight.delete(work);
        });
      inFlight.add(work);
    };
    try {
      for (const step of steps) {
        if (step.state === "done" || step.state === "failed") continue;
        const release = await this.acquire(this.pipeline);
        if (!release) break;
        launch(step, release, true);
      }
      let nextIndex = steps.length === 0 ? 0 : Math.max(...steps.map((step) => step.stepIndex)) + 1;
      while (!this.stopReason) {
        if (this.config.limits.steps !== undefined && nextIndex >= this.config.limits.steps) {
          this.stopReason = "steps";
          break;
        }
        const release = await this.acquire(this.pipeline);
        if (!release) break;
        const environment = this.pickEnvironment(nextIndex);
        if (!environment) {
          release();
          this.stop("no-environment", false);
          break;
        }
        const seed = deriveSeed(this.record.seed, "step", nextIndex);
        const strategy = this.chooseStrategy(environment, seed);
        const step = this.store.insertStep({
          runId: this.runId,
          stepIndex: nextIndex,
          environment,
          strategy,
          seed,
        });
        nextIndex++;
        launch(step, release, false);
      }
      if (this.stopReason) this.emit({ type: "run-stopping", reason: this.stopReason });
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    } finally {
      if (durationTimer) clearTimeout(durationTimer);
      clearInterval(heartbeat);
      await this.validator.close();
      this.options.signal?.removeEventListener("abort", onInterrupt);
      this.options.drainSignal?.removeEventListener("abort", onDrain);
    }

    const aborted = this.store.abortRunningEpisodes(this.runId, "interrupted");
    if (aborted > 0) log.info("episodes in flight marked aborted", { count: aborted });
    const unfinished = this.store
      .listSteps(this.runId)
      .some((step) => step.state !== "done" && step.state !== "failed");
    // A run whose every environment was taken out cannot work, whatever else stopped it.
    const allTakenOut = this.store
      .listEnvironments(this.runId)
      .filter((environment) => this.environments.has(environment.name))
      .every((environment) => environment.status === "disabled");
    const status =
      this.stopReason === "no-environment" || allTakenOut
        ? "failed"
        : unfinished || this.stopReason === "interrupted" || this.stopReason === "duration"
          ? "interrupted"
          : "completed";
    this.store.setRunStatus(this.runId, status);
    this.emit({ type: "run-finished", runId: this.runId, status });
    return {
      runId: this.runId,
      status,
      resumed,
      startedAt,
      endedAt: Date.now(),
      stages: {
        pipeline: this.pipeline,
        proposers: this.proposers,
        validations: this.validations,
        solvers: this.solvers,
        sandboxes: this.sandboxes.slots,
      },
    };
  }

  /** Opens the run to continue (the store's latest) or creates one; returns true when resuming. */
  private openRun(): boolean {
    const latest = this.options.newRun ? null : this.store.latestRun();
    if (latest) {
      this.record = this.store.restartRun(latest.id, this.config);
      this.runId = latest.id;
      if (latest.seed !== this.config.seed)
        log.warn("resuming with the run's original seed", {
          runSeed: latest.seed,
          configSeed: this.config.seed,
        });
      const aborted = this.store.abortRunningEpisodes(this.runId, "crashed");
      this.store.reactivateEnvironments(this.runId);
      log.info("resuming run", { runId: this.runId, start: this.record.starts, abortedEpisodes: aborted });
    } else {
      const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
      this.runId = `run-${stamp}-${randomBytes(3).toString("hex")}` as RunId;
      this.record = this.store.createRun({ id: this.runId, config: this.config, seed: this.config.seed });
      log.info("new run", { runId: this.runId, store: this.store.path });
    }
    for (const [name, environment] of this.environments)
      this.store.upsertEnvironment(this.runId, name, environment);
    this.duplicates.seed(
      this.store.listSteps(this.runId).flatMap((step) => {
        if (step.artifactId === null || (step.outcome !== "valid" && step.outcome !== "invalid")) return [];
        const stored = this.store.getArtifact(step.artifactId);
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
    return latest !== null;
  }

  private stop(reason: NonNullable<Orchestrator["stopReason"]>, abortInFlight: boolean): void {
    if (!this.stopReason) this.stopReason = reason;
    if (abortInFlight && !this.abort.signal.aborted) this.abort.abort(new Interrupted(reason));
    // Wake the step loop if it waits for a pipeline slot.
    if (!abortInFlight) this.drainWaiters.abort();
  }

  /** Acquires a permit unless the run stops first (then null). */
  private async acquire(semaphore: Semaphore): Promise<(() => void) | null> {
    if (this.stopReason) return null;
    try {
      return await semaphore.acquire(AbortSignal.any([this.signal, this.drainWaiters.signal]));
    } catch {
      return null;
    }
  }

  /** Round-robin over the environments still active, so one broken environment does not stop the run. */
  private pickEnvironment(stepIndex: number): string | null {
    const active = this.store
      .listEnvironments(this.runId)
      .filter((environment) => environment.status === "active" && this.environments.has(environment.name))
      .map((environment) => environment.name);
    const configured = [...this.environments.keys()].filter((name) => active.includes(name));
    if (configured.length === 0) return null;
    return configured[stepIndex % configured.length]!;
  }

  /** The step's strategy from the environment's current weights (see strategy-weights.ts). */
  private chooseStrategy(environment: string, seed: number): Strategy {
    const base = configuredWeights(this.config.strategies, this.config.policy.kind);
    const { weights, unavailable, measured } = strategyWeights(
      environment,
      strategyOutcomes(this.store.listSteps(this.runId), this.store.listGroups(this.runId)),
      {
        base,
        learnability: this.config.strategyAdaptation.learnability ?? this.config.policy.kind === "builtin",
        floor: this.config.strategyAdaptation.floor,
      },
    );
    for (const strategy of unavailable) {
      const key = `${environment}\u0000${strategy}`;
      if (this.unavailableLogged.has(key)) continue;
      this.unavailableLogged.add(key);
      log.info("strategy cannot apply: weight 0 on this environment", { environment, strategy });
    }
    // Every playable strategy unavailable: play the configured mix, whose steps then say why they fail.
    const playable = Object.values(weights).some((weight) => weight > 0);
    const strategy = chooseStrategy(playable ? weights : base, seed);
    log.debug("strategy chosen", { environment, strategy, weights, measured });
    return strategy;
  }

  private environmentOf(name: string): Environment {
    const environment = this.environments.get(name);
    if (!environment)
      throw new InputError(
        "environment-missing",
        `the run has a step on environment "${name}", which the configuration no longer names: add it back to resume`,
      );
    return environment;
  }

  private proposerGroupId(stepIndex: number): string {
    return `${this.runId}/step-${stepIndex}`;
  }

  // ---- a proposer step, from any state --------------------------------------------------------------

  private async runStep(initial: StepRecord, resumed: boolean): Promise<void> {
    const { stepIndex } = initial;
    this.emit({
      type: "step-started",
      stepIndex,
      environment: initial.environment,
      strategy: initial.strategy,
      resumed,
    });
    try {
      let step = initial;
      if (step.state === "proposing") {
        await this.proposersStage(step);
        step = this.store.getStep(this.runId, stepIndex)!;
      }
      if (step.state === "validating") {
        await this.validateStep(step);
        step = this.store.getStep(this.runId, stepIndex)!;
      }
      if (step.state === "solving") {
        for (const group of this.store.listGroups(this.runId, stepIndex)) {
          if (group.order === 1) await this.runGroup(group, step);
        }
        this.store.completeStep(this.runId, stepIndex);
        step = this.store.getStep(this.runId, stepIndex)!;
      }
      this.store.recordEnvironmentSuccess(this.runId, step.environment);
      const reward = step.episodeId ? (this.store.getReward(step.episodeId)?.value ?? null) : null;
      this.emit({
        type: "step-finished",
        stepIndex,
        outcome: step.outcome ?? step.state,
        proposerReward: reward,
      });
    } catch (error) {
      if (this.signal.aborted || error instanceof Interrupted) return;
      const message = errorMessage(error);
      log.error("step failed", { step: stepIndex, environment: initial.environment, error: message });
      this.store.failStep(this.runId, stepIndex, message);
      this.emit({ type: "step-failed", stepIndex, environment: initial.environment, error: message });
      if (error instanceof InfrastructureError || error instanceof InputError) {
        const disabled = this.store.recordEnvironmentFailure(
          this.runId,
          initial.environment,
          message,
          this.config.limits.maxEnvironmentFailures,
        );
        if (disabled)
          this.emit({ type: "environment-disabled", environment: initial.environment, reason: message });
      }
    }
  }

  private async proposersStage(step: StepRecord): Promise<void> {
    const release = await this.acquireOrThrow(this.proposers);
    try {
      await this.propose(step);
    } finally {
      release();
    }
  }

  private async acquireOrThrow(semaphore: Semaphore): Promise<() => void> {
    try {
      return await semaphore.acquire(this.signal);
    } catch {
      throw new Interrupted("interrupted while waiting for a slot");
    }
  }

  private async propose(step: StepRecord): Promise<void> {
    const environment = this.environmentOf(step.environment);
    const episodeId = newEpisodeId(`${this.proposerGroupId(step.stepIndex)}/proposer`);
    this.store.startEpisode({
      id: episodeId,
      runId: this.runId,
      role: "proposer",
      stepIndex: step.stepIndex,
    });
    const signal = AbortSignal.any([this.signal, AbortSignal.timeout(this.config.limits.proposerTimeoutMs)]);
    const sandbox = await this.sandboxes.create({
      environment,
      label: `propose:step-${step.stepIndex}`,
      limits: this.config.sandbox,
    });
    let outcome: Awaited<ReturnType<Policy["propose"]>>;
    try {
      outcome = await holdingSandbox(() =>
        this.policy.propose({
          sandbox: viewOf(sandbox),
          environmentName: step.environment,
          strategy: step.strategy as Strategy,
          seed: step.seed,
          thresholds: this.validator.thresholds,
          validate: (artifact) => this.validator.validate(environment, artifact, { abortSignal: signal }),
          abortSignal: signal,
          onStep: (episode) => this.store.saveEpisodeProgress(episodeId, episode),
        }),
      ).catch((error: unknown) => {
        if (this.signal.aborted || error instanceof InfrastructureError) throw error;
        // A policy that crashes is a failed episode, not a broken run.
        return {
          status: "failed" as const,
          reason: `policy error: ${errorMessage(error)}`,
          episode: failedEpisode("proposer", this.policy, error),
        };
      });
    } finally {
      await sandbox
        .destroy()
        .catch((error: unknown) => log.warn("sandbox destroy failed", { error: errorMessage(error) }));
    }
    if (this.signal.aborted) throw new Interrupted("interrupted during proposal");
    if (outcome.status === "submitted") {
      const artifact: BugArtifact = {
        ...outcome.artifact,
        meta: {
          ...outcome.artifact.meta,
          environment: step.environment,
          strategy: step.strategy as Strategy,
          order: 1,
          parentId: null,
          seed: step.seed,
        },
      };
      const id = contentId(artifact) as ArtifactId;
      this.store.recordProposal({
        runId: this.runId,
        stepIndex: step.stepIndex,
        episodeId,
        episode: outcome.episode,
        proposerGroupId: this.proposerGroupId(step.stepIndex),
        artifact: { id, artifact },
      });
      this.emit({ type: "artifact-proposed", stepIndex: step.stepIndex, artifactId: id });
    } else {
      this.store.recordProposal({
        runId: this.runId,
        stepIndex: step.stepIndex,
        episodeId,
        episode: outcome.episode,
        proposerGroupId: this.proposerGroupId(step.stepIndex),
        artifact: null,
        failure: {
          reward: proposerReward({ valid: false }),
          reason: outcome.strategyUnavailable ? `${UNAVAILABLE_PREFIX}${outcome.reason}` : outcome.reason,
        },
      });
      this.emit({ type: "proposal-failed", stepIndex: step.stepIndex, reason: outcome.reason });
    }
    this.noteProposal(
      step.environment,
      outcome.status === "failed" && outcome.scope === "environment" ? outcome.reason : null,
    );
  }

  /** Takes an environment out when its first steps all failed for the same environment-level reason. */
  private noteProposal(environment: string, environmentFailure: string | null): void {
    const reason = this.earlyStop.record(environment, environmentFailure);
    if (reason === null) return;
    const steps = this.config.limits.earlyStopSteps;
    log.warn("environment taken out: its first steps all failed for the same reason", {
      environment,
      steps,
      reason,
    });
    this.store.disableEnvironment(this.runId, environment, reason);
    this.emit({ type: "environment-disabled", environment, reason });
  }

  private async validateStep(step: StepRecord): Promise<void> {
    const stored = this.store.getArtifact(step.artifactId!);
    if (!stored)
      throw new InfrastructureError("store-inconsistent", `step ${step.stepIndex}: artifact missing`);
    // One artifact, one task: an identical artifact takes the first one's verdict, without a second run.
    const claim = await this.duplicates.identicalTo(stored.id, step.stepIndex);
    if (!("settle" in claim)) {
      this.recordDuplicate(step, null, claim.stepIndex, "identical", claim.verdict);
      return;
    }
    let report: ValidationReport;
    try {
      report = await this.validate(step.environment, stored.artifact);
    } catch (error) {
      claim.settle(null);
      throw error;
    }
    claim.settle(report.verdict);
    const sameBug =
      report.verdict === "valid" ? this.duplicates.claimSemantic(step.stepIndex, stored.artifact) : null;
    if (sameBug !== null && this.config.duplicates.semantic === "skip") {
      this.recordDuplicate(step, report, sameBug, "semantic", "valid");
      return;
    }
    const groupId = `${this.proposerGroupId(step.stepIndex)}/group` as GroupId;
    this.store.recordStepValidation({
      runId: this.runId,
      stepIndex: step.stepIndex,
      environment: step.environment,
      report,
      proposerGroupId: this.proposerGroupId(step.stepIndex),
      invalidReward: proposerReward({ valid: false }),
      group: report.verdict === "valid" ? this.newGroup(groupId, step, stored.id, 1) : null,
    });
    if (sameBug !== null) {
      this.store.markStepDuplicate(this.runId, step.stepIndex, sameBug, "semantic");
      log.info("same bug as an earlier step: solved, proposer penalised", {
        step: step.stepIndex,
        duplicateOf: sameBug,
      });
    }
    this.emit({
      type: "artifact-validated",
      stepIndex: step.stepIndex,
      artifactId: stored.id,
      order: 1,
      verdict: report.verdict,
      failedCheck: report.failedCheck,
      reason: report.reason,
    });
  }

  private recordDuplicate(
    step: StepRecord,
    report: ValidationReport | null,
    duplicateOf: number,
    kind: "identical" | "semantic",
    originalVerdict: ValidationReport["verdict"],
  ): void {
    const reward = this.duplicateReward(originalVerdict);
    const reason = `duplicate (${kind}) of step ${duplicateOf}'s ${originalVerdict} artifact`;
    this.store.recordStepDuplicate({
      runId: this.runId,
      stepIndex: step.stepIndex,
      environment: step.environment,
      report,
      proposerGroupId: this.proposerGroupId(step.stepIndex),
      duplicateOf,
      kind,
      reward,
      reason,
    });
    log.info("duplicate artifact: not solved again", { step: step.stepIndex, duplicateOf, kind, reward });
  }

  private duplicateReward(originalVerdict: ValidationReport["verdict"]): number {
    return duplicateReward({
      originalVerdict,
      configured: this.config.duplicates.reward,
      alpha: this.config.alpha,
      invalidReward: proposerReward({ valid: false }),
    });
  }

  private async validate(environmentName: string, artifact: BugArtifact): Promise<ValidationReport> {
    const release = await this.acquireOrThrow(this.validations);
    try {
      const report = await this.validator.validate(this.environmentOf(environmentName), artifact, {
        abortSignal: this.signal,
      });
      if (this.signal.aborted) throw new Interrupted("interrupted during validation");
      return report;
    } finally {
      release();
    }
  }

  private newGroup(
    id: GroupId,
    step: StepRecord,
    artifactId: ArtifactId,
    order: 1 | 2,
    parent?: { groupId: GroupId; attemptId: AttemptRecord["id"] },
  ): NewGroup {
    return {
      id,
      stepIndex: step.stepIndex,
      artifactId,
      environment: step.environment,
      order,
      ...(parent ? { parentGroupId: parent.groupId, sourceAttemptId: parent.attemptId } : {}),
      // Seeds depend on the step and the group's place in it, not on the run id: a run is reproducible.
      attemptSeeds: Array.from({ length: this.config.groupSize }, (_, index) =>
        deriveSeed(step.seed, id.slice(this.proposerGroupId(step.stepIndex).length), index),
      ),
    };
  }

  // ---- solver groups ----------------------------------------------------------------------------------

  private async runGroup(initial: GroupRecord, step: StepRecord): Promise<void> {
    let group = initial;
    const stored = this.store.getArtifact(group.artifactId)!;
    const report = this.store.getValidation(group.artifactId, group.environment)?.report;
    if (!report)
      throw new InfrastructureError("store-inconsistent", `group ${group.id}: validation report missing`);
    if (group.state === "solving") {
      const pending = this.store.listAttempts(group.id).filter((attempt) => attempt.state === "pending");
      const results = await Promise.allSettled(
        pending.map((attempt) => this.runAttempt(group, attempt, stored.artifact, report)),
      );
      if (this.signal.aborted) throw new Interrupted("interrupted during solving");
      const failure = results.find((result) => result.status === "rejected");
      if (failure) throw (failure as PromiseRejectedResult).reason;
      this.gradeGroup(group, step);
      group = this.store.getGroup(group.id)!;
    }
    if (group.order === 1 && this.config.secondOrder.enabled && this.config.secondOrder.maxPerGroup > 0) {
      let candidates = this.store.listCandidates(group.id);
      if (candidates.length === 0) {
        const failed = this.store
          .listAttempts(group.id)
          .filter((attempt) => attempt.resolved === false && (attempt.patch ?? "").trim() !== "")
          .slice(0, this.config.secondOrder.maxPerGroup)
          .map((attempt) => attempt.id);
        if (failed.length === 0) return;
        candidates = this.store.insertCandidates(group.id, failed);
      }
      for (const candidate of candidates) await this.runCandidate(candidate, group, stored.artifact, step);
    }
  }

  private async runAttempt(
    group: GroupRecord,
    attempt: AttemptRecord,
    artifact: BugArtifact,
    report: ValidationReport,
  ): Promise<void> {
    const release = await this.acquireOrThrow(this.solvers);
    try {
      const environment = this.environmentOf(group.environment);
      const episodeId = newEpisodeId(`${attempt.id}/solver`);
      this.store.startEpisode({
        id: episodeId,
        runId: this.runId,
        role: "solver",
        stepIndex: group.stepIndex,
        groupId: group.id,
      });
      const signal = AbortSignal.any([this.signal, AbortSignal.timeout(this.config.limits.solverTimeoutMs)]);
      const task = await createSolverTask({
        sandboxes: this.sandboxes,
        environment,
        artifact,
        label: `solve:${attempt.id}`,
      });
      let patch: string;
      let episode: PolicyEpisode;
      let crashed: string | null = null;
      try {
        const outcome = await holdingSandbox(() =>
          this.policy.solve({
            sandbox: viewOf(task.sandbox),
            specification: task.specification,
            prompt: task.prompt,
            seed: attempt.seed,
            abortSignal: signal,
            onStep: (progress) => this.store.saveEpisodeProgress(episodeId, progress),
          }),
        );
        patch = outcome.patch;
        episode = outcome.episode;
      } catch (error) {
        if (this.signal.aborted || error instanceof InfrastructureError) throw error;
        crashed = errorMessage(error);
        patch = "";
        episode = failedEpisode("solver", this.policy, error);
      } finally {
        await task.sandbox
          .destroy()
          .catch((error: unknown) => log.warn("sandbox destroy failed", { error: errorMessage(error) }));
      }
      if (this.signal.aborted) throw new Interrupted("interrupted during solving");
      const result: GradeResult = crashed
        ? {
            resolved: false,
            status: "unresolved",
            reason: `solver episode failed: ${crashed}`,
            failedF2P: report.f2p,
            failedP2P: [],
            durationMs: 0,
          }
        : await grade({
            sandboxes: this.sandboxes,
            environment,
            artifact,
            report,
            patch,
            timeoutMs: this.config.thresholds.testTimeoutMs,
            abortSignal: this.signal,
          });
      if (this.signal.aborted) throw new Interrupted("interrupted during grading");
      this.store.recordAttempt({
        runId: this.runId,
        stepIndex: group.stepIndex,
        attemptId: attempt.id,
        groupId: group.id,
        episodeId,
        episode,
        patch,
        grade: result,
      });
      this.emit({
        type: "attempt-graded",
        stepIndex: group.stepIndex,
        groupId: group.id,
        attemptIndex: attempt.attemptIndex,
        resolved: result.resolved,
        status: result.status,
      });
    } finally {
      release();
    }
  }

  private gradeGroup(group: GroupRecord, step: StepRecord): void {
    const attempts = this.store.listAttempts(group.id);
    const rate = attempts.filter((attempt) => attempt.resolved).length / attempts.length;
    const rewards: RewardInput[] = attempts.map((attempt) => ({
      episodeId: attempt.episodeId!,
      role: "solver",
      groupId: group.id,
      value: solverReward(attempt.resolved === true),
      reason: attempt.grade?.status ?? "unresolved",
    }));
    let proposerValue: number | null = null;
    if (group.order === 1 && step.episodeId) {
      // A bug an earlier step already made (penalised semantic duplicate) earns the duplicate reward.
      const current = this.store.getStep(this.runId, step.stepIndex) ?? step;
      const duplicate = current.duplicateOf !== null;
      proposerValue = duplicate
        ? this.duplicateReward("valid")
        : proposerReward({ valid: true, solveRate: rate, alpha: this.config.alpha });
      rewards.push({
        episodeId: step.episodeId,
        role: "proposer",
        groupId: this.proposerGroupId(step.stepIndex),
        value: proposerValue,
        reason: duplicate
          ? `valid, solve rate ${rate.toFixed(3)}, but the same bug as step ${current.duplicateOf}`
          : `valid, solve rate ${rate.toFixed(3)}`,
      });
    }
    this.store.recordGroupGraded({ runId: this.runId, groupId: group.id, solveRate: rate, rewards });
    this.emit({
      type: "group-graded",
      stepIndex: group.stepIndex,
      groupId: group.id,
      order: group.order,
      solveRate: rate,
      proposerReward: proposerValue,
    });
  }

  // ---- second-order candidates ------------------------------------------------------------------------

  /** Ends a second-order candidate without a group. */
  private skipCandidate(
    candidate: CandidateRecord,
    outcome: "error" | "no-artifact",
    reason: string,
    step: StepRecord,
  ): void {
    this.store.recordCandidateEnded(candidate.id, outcome, reason);
    this.emit({
      type: "second-order-skipped",
      stepIndex: step.stepIndex,
      groupId: candidate.groupId,
      reason,
    });
  }

  private async runCandidate(
    initial: CandidateRecord,
    parentGroup: GroupRecord,
    parent: BugArtifact,
    step: StepRecord,
  ): Promise<void> {
    let candidate = initial;
    const environment = this.environmentOf(parentGroup.environment);
    if (candidate.state === "pending") {
      const attempt = this.store
        .listAttempts(parentGroup.id)
        .find((entry) => entry.id === candidate.attemptId)!;
      const release = await this.acquireOrThrow(this.validations);
      let made: BugArtifact | null;
      try {
        made = await makeSecondOrderArtifact({
          sandboxes: this.sandboxes,
          environment,
          parent,
          failedPatch: attempt.patch ?? "",
        });
      } catch (error) {
        if (this.signal.aborted || error instanceof InfrastructureError) throw error;
        // A patch that cannot become a bug (malformed, conflicting) ends this candidate, not the step.
        this.skipCandidate(
          candidate,
          "error",
          `cannot make a second-order bug: ${errorMessage(error)}`,
          step,
        );
        return;
      } finally {
        release();
      }
      if (this.signal.aborted) throw new Interrupted("interrupted making a second-order bug");
      if (!made) {
        this.skipCandidate(candidate, "no-artifact", "the failed patch makes no new bug", step);
        return;
      }
      const id = contentId(made) as ArtifactId;
      this.store.recordCandidateArtifact(candidate.id, id, {
        ...made,
        meta: {
          ...made.meta,
          order: 2,
          parentId: parentGroup.artifactId,
          environment: parentGroup.environment,
        },
      });
      this.emit({
        type: "second-order-made",
        stepIndex: step.stepIndex,
        groupId: parentGroup.id,
        artifactId: id,
      });
      candidate = this.store.listCandidates(parentGroup.id).find((entry) => entry.id === candidate.id)!;
    }
    if (candidate.state === "validating") {
      // One artifact, one task: two failed attempts that made the same second-order bug make one group.
      const artifactId = candidate.artifactId!;
      if (
        this.secondOrderClaims.has(artifactId) ||
        this.store.listGroups(this.runId).some((group) => group.artifactId === artifactId)
      ) {
        const reason = `the same artifact as an earlier one of the run (${artifactId.slice(0, 12)}): not solved twice`;
        this.skipCandidate(candidate, "no-artifact", reason, step);
        return;
      }
      this.secondOrderClaims.add(artifactId);
      const stored = this.store.getArtifact(artifactId)!;
      const report = await this.validate(parentGroup.environment, stored.artifact);
      const childId = `${candidate.id}/group` as GroupId;
      this.store.recordCandidateValidation({
        runId: this.runId,
        candidateId: candidate.id,
        environment: parentGroup.environment,
        report,
        group:
          report.verdict === "valid"
            ? this.newGroup(childId, step, stored.id, 2, {
                groupId: parentGroup.id,
                attemptId: candidate.attemptId,
              })
            : null,
      });
      this.emit({
        type: "artifact-validated",
        stepIndex: step.stepIndex,
        artifactId: stored.id,
        order: 2,
        verdict: report.verdict,
        failedCheck: report.failedCheck,
        reason: report.reason,
      });
      candidate = this.store.listCandidates(parentGroup.id).find((entry) => entry.id === candidate.id)!;
    }
    if (candidate.childGroupId) {
      const child = this.store.getGroup(candidate.childGroupId);
      if (child) await this.runGroup(child, step);
    }
  }
}

function newEpisodeId(prefix: string): EpisodeId {
  return `${prefix}-${randomBytes(4).toString("hex")}` as EpisodeId;
}

function failedEpisode(role: "proposer" | "solver", policy: Policy, error: unknown): PolicyEpisode {
  const now = new Date().toISOString();
  return {
    id: `failed-${randomBytes(4).toString("hex")}`,
    role,
    policy: policy.info,
    status: "failed",
    exitReason: "policy-error",
    trajectory: [{ error: errorMessage(error) }],
    samples: [],
    startedAt: now,
    endedAt: now,
    stats: {},
  };
}
