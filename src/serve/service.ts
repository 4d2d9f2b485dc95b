// The service's steps: accepted exactly once per request id, queued (bounded), started under the step
// limit on the shared step runner, ended with a result that is stored once and never changed. After a
// crash, steps that were running resume from what the store holds for them.
import { randomBytes, randomUUID } from "node:crypto";
import type { SelfPlayConfig } from "../config/index.js";
import { errorMessage } from "../errors.js";
import { createLogger } from "../log.js";
import type { Policy } from "../ports/policy.js";
import { noResources, type SandboxBackend, type SandboxResources } from "../ports/sandbox.js";
import type { TestLocator } from "../ports/validation.js";
import { createStepRunner, type StepRunner } from "../selfplay/index.js";
import {
  abortStepEpisodes,
  ackServiceStep,
  endServiceStep,
  getServiceStep,
  insertServiceStep,
  listServiceSteps,
  pruneServiceSteps,
  type RunId,
  type ServiceStepRecord,
  type SqliteStore,
  serviceState,
  serviceStepCounts,
  setServiceState,
} from "../store/index.js";
import { withPolicyStep } from "./policy-step.js";
import { RequestError } from "./request-error.js";
import type { Inference, Sampling, SolveBody, StepBody, StepView } from "./schemas.js";
import { StepEvents } from "./step-events.js";
import { openServiceRun, type StepPlan, StepPlanner } from "./step-plans.js";
import { buildStepResult, stepView } from "./step-results.js";

const log = createLogger("serve");
const POLICIES_KEPT = 16;

export interface PolicyChoice {
  inference: Inference;
  role: "proposer" | "solver";
  policyVersion: string;
  policyStep?: number;
  sampling?: Sampling;
}

export interface ServiceDeps {
  config: SelfPlayConfig;
  store: SqliteStore;
  sandboxes: SandboxBackend;
  /** Builds the policy that plays a role for one step (the composition root picks the adapter). */
  policies: (choice: PolicyChoice) => Policy;
  version: string;
  /** Lets validation see which tests a weakening edits (the composition root gives the code model's). */
  testLocator?: TestLocator;
}

export interface Service {
  readonly replicaId: string;
  readonly version: string;
  readonly events: StepEvents;
  submit(kind: "step" | "solve", body: StepBody | SolveBody): { created: boolean; view: StepView };
  view(stepId: string): StepView;
  cancel(stepId: string): StepView;
  ack(stepId: string): StepView;
  stats(): Record<string, unknown>;
  environments(): { name: string; kind: "dir" | "image"; status: string }[];
  /** Stops starting steps and interrupts the running ones (they resume at the next start). */
  close(): Promise<void>;
}

export function createService(deps: ServiceDeps): Service {
  return new StepService(deps);
}

class StepService implements Service {
  readonly replicaId: string;
  readonly version: string;
  readonly events = new StepEvents();
  private readonly store: SqliteStore;
  private readonly config: SelfPlayConfig;
  private readonly stopping = new AbortController();
  private readonly runner: StepRunner;
  private readonly runId: RunId;
  private readonly planner: StepPlanner;
  private readonly queue: string[] = [];
  private readonly running = new Map<string, { controller: AbortController; work: Promise<void> }>();
  private readonly stepLimit: number;
  private highestPolicyStep: number;
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly policies = new Map<string, Policy>();
  /** Settles once the environments were probed for strategies they cannot serve; new steps wait for it. */
  private readonly probed: Promise<void>;

  constructor(private readonly deps: ServiceDeps) {
    this.store = deps.store;
    this.config = deps.config;
    this.version = deps.version;
    this.replicaId = replicaIdOf(deps.store, deps.config);
    const concurrency = deps.config.concurrency;
    this.stepLimit =
      deps.config.serve.stepsInFlight ??
      concurrency.pipelineSteps ??
      concurrency.proposers + concurrency.validations + 1;
    this.runner = createStepRunner({
      config: deps.config,
      store: deps.store,
      sandboxes: deps.sandboxes,
      signal: this.stopping.signal,
      ...(deps.testLocator ? { testLocator: deps.testLocator } : {}),
    });
    this.runId = openServiceRun(deps.store, deps.config, this.replicaId);
    this.runner.knowRun(this.runId);
    this.planner = new StepPlanner(deps.store, deps.config, this.runId);
    this.probed =
      deps.config.strategies.history > 0
        ? this.runner.unservedStrategies().then(
            (unserved) => this.planner.knowUnserved(unserved),
            (error: unknown) => log.warn("environment probe failed", { error: errorMessage(error) }),
          )
        : Promise.resolve();
    this.highestPolicyStep = Number(serviceState(deps.store, "highest_policy_step") ?? -1);
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), 3_600_000);
    this.pruneTimer.unref();
    // Steps that were running when the last process stopped resume first, then the queued ones in order.
    for (const step of listServiceSteps(deps.store, ["running"])) this.launch(step);
    this.queue.push(...listServiceSteps(deps.store, ["queued"]).map((step) => step.stepId));
    this.pump();
  }

  submit(kind: "step" | "solve", body: StepBody | SolveBody): { created: boolean; view: StepView } {
    this.planner.check(kind, body);
    const request = canonicalJson(body);
    const capacity = this.config.serve.queueCapacity;
    const outcome = insertServiceStep(
      this.store,
      {
        stepId: `${this.replicaId}-${randomUUID()}`,
        requestId: body.request_id,
        kind,
        request,
        policyVersion: body.policy_version,
        policyStep: body.policy_step ?? null,
      },
      () => (this.queue.length + this.running.size >= capacity ? "full" : null),
    );
    if ("refused" in outcome)
      throw new RequestError(429, "queue-full", `the queue is full (${capacity} steps queued or running)`, {
        retryAfterSeconds: 5,
      });
    const { step, created } = outcome;
    if (!created) {
      const difference = firstDifference(JSON.parse(step.request), JSON.parse(request), "body");
      if (step.kind !== kind || difference !== null)
        throw new RequestError(
          409,
          "request-id-reused",
          `request_id ${body.request_id} was already used for a different request (${step.kind !== kind ? `a ${step.kind}` : `differs at ${difference}`})`,
          { path: difference ?? "body" },
        );
      return { created: false, view: stepView(step) };
    }
    if (body.policy_step !== undefined && body.policy_step > this.highestPolicyStep) {
      this.highestPolicyStep = body.policy_step;
      setServiceState(this.store, "highest_policy_step", String(body.policy_step));
    }
    this.queue.push(step.stepId);
    this.pump();
    return { created: true, view: stepView(getServiceStep(this.store, step.stepId) ?? step) };
  }

  view(stepId: string): StepView {
    return stepView(this.known(stepId));
  }

  private known(stepId: string): ServiceStepRecord {
    const step = getServiceStep(this.store, stepId);
    if (!step) throw new RequestError(404, "unknown-step", `no step ${stepId}`, { path: "params.step_id" });
    if (step.pruned)
      throw new RequestError(
        410,
        "result-pruned",
        `step ${stepId} was acknowledged or expired: its result is gone`,
      );
    return step;
  }

  cancel(stepId: string): StepView {
    const step = this.known(stepId);
    if (step.status === "queued" || step.status === "running") {
      // Ended first, so nothing the step still does can change its outcome.
      if (
        endServiceStep(this.store, stepId, {
          status: "cancelled",
          reason: "cancelled by the client",
          result: null,
        })
      )
        this.events.end(stepId, "cancelled", "cancelled by the client");
      const index = this.queue.indexOf(stepId);
      if (index >= 0) this.queue.splice(index, 1);
      this.running.get(stepId)?.controller.abort();
    }
    return this.view(stepId);
  }

  ack(stepId: string): StepView {
    const view = this.view(stepId);
    ackServiceStep(this.store, stepId);
    if (view.status !== "queued" && view.status !== "running") this.prune();
    return view;
  }

  stats(): Record<string, unknown> {
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const counts = serviceStepCounts(this.store, since);
    const sandboxes = this.runner.stages.sandboxes;
    return {
      replica_id: this.replicaId,
      queue: { depth: this.queue.length, capacity: this.config.serve.queueCapacity },
      in_flight: this.running.size,
      done: counts.done,
      failed: counts.failed,
      throughput_per_hour: counts.endedSince,
      sandboxes: { in_use: sandboxes.active, limit: this.config.concurrency.sandboxes },
      waiting_clients: this.events.listenerCount,
      resources: wireResources(this.deps.sandboxes.resources?.() ?? noResources()),
    };
  }

  environments(): { name: string; kind: "dir" | "image"; status: string }[] {
    const status = new Map(
      this.store.listEnvironments(this.runId).map((entry) => [entry.name, entry.status]),
    );
    return this.config.environments.map((environment) => ({
      name: environment.name,
      kind: "path" in environment ? ("dir" as const) : ("image" as const),
      status: status.get(environment.name) ?? "active",
    }));
  }

  async close(): Promise<void> {
    this.queue.length = 0;
    clearInterval(this.pruneTimer);
    this.stopping.abort();
    await Promise.allSettled([...this.running.values()].map((entry) => entry.work));
    await this.runner.close();
  }

  private prune(): void {
    const before = new Date(Date.now() - this.config.serve.retentionMs).toISOString();
    const pruned = pruneServiceSteps(this.store, before);
    if (pruned > 0) log.info("results pruned", { count: pruned });
  }

  /** Starts queued steps while there is room; stale ones end at once. */
  private pump(): void {
    while (!this.stopping.signal.aborted && this.running.size < this.stepLimit && this.queue.length > 0) {
      const step = getServiceStep(this.store, this.queue.shift()!);
      if (step?.status !== "queued") continue;
      const bound = this.highestPolicyStep - this.config.serve.maxStaleness;
      if (step.policyStep !== null && step.policyStep < bound) {
        const reason = `stale: policy_step ${step.policyStep} < ${this.highestPolicyStep} - ${this.config.serve.maxStaleness}`;
        this.finish(step.stepId, { status: "failed", reason, result: null });
        continue;
      }
      this.launch(step);
    }
  }

  private launch(step: ServiceStepRecord): void {
    const controller = new AbortController();
    const work = this.execute(step, controller.signal)
      .catch((error: unknown) => {
        log.error("step failed", { step: step.stepId, error: errorMessage(error) });
        this.finish(step.stepId, { status: "failed", reason: errorMessage(error), result: null });
      })
      .finally(() => {
        this.running.delete(step.stepId);
        this.pump();
      });
    this.running.set(step.stepId, { controller, work });
  }

  /** Policies are kept per choice (a few), so steps of one policy version share their clients' connections. */
  private policyFor(choice: PolicyChoice): Policy {
    const key = canonicalJson({ ...choice, policyStep: undefined });
    let policy = this.policies.get(key);
    if (!policy) {
      policy = this.deps.policies(choice);
      this.policies.set(key, policy);
      if (this.policies.size > POLICIES_KEPT) this.policies.delete(this.policies.keys().next().value!);
    }
    return policy;
  }

  private finish(stepId: string, end: Parameters<typeof endServiceStep>[2]): void {
    if (endServiceStep(this.store, stepId, end)) this.events.end(stepId, end.status, end.reason);
  }

  private async execute(record: ServiceStepRecord, signal: AbortSignal): Promise<void> {
    await this.probed;
    const plan: StepPlan = this.planner.plan(record);
    const body = JSON.parse(record.request) as StepBody & SolveBody;
    const choice = (inference: Inference, role: PolicyChoice["role"]): Policy =>
      withPolicyStep(
        this.policyFor({
          inference,
          role,
          policyVersion: body.policy_version,
          ...(body.policy_step === undefined ? {} : { policyStep: body.policy_step }),
          ...(body.sampling ? { sampling: body.sampling } : {}),
        }),
        body.policy_step,
      );
    const proposer = choice(body.inference, "proposer");
    const solver = body.solver_inference
      ? choice(body.solver_inference, "solver")
      : choice(body.inference, "solver");
    this.events.publish(record.stepId, { type: "step-running", data: { step_id: record.stepId } });
    const outcome = await this.runner.runStep(
      {
        step: plan.step,
        resumed: plan.resumed,
        proposer,
        solver,
        ...(body.group_size === undefined ? {} : { groupSize: body.group_size }),
        repairOnly: record.kind === "solve",
      },
      {
        signal,
        onEvent: (event) => this.events.publish(record.stepId, { type: event.type, data: { ...event } }),
      },
    );
    const { runId, stepIndex } = plan.step;
    if (outcome.status === "interrupted") {
      // Cancelled: the step was ended already; the run's step and its episodes say so too.
      if (getServiceStep(this.store, record.stepId)?.status === "cancelled") {
        this.store.failStep(runId, stepIndex, "cancelled by the client");
        abortStepEpisodes(this.store, runId, stepIndex, "cancelled");
      }
      return;
    }
    if (outcome.status === "failed" || outcome.step.state === "failed") {
      const reason = outcome.status === "failed" ? outcome.error : (outcome.step.error ?? "the step failed");
      this.finish(record.stepId, {
        status: "failed",
        reason,
        result: buildStepResult(this.store, runId, stepIndex),
      });
      return;
    }
    this.finish(record.stepId, {
      status: "done",
      reason: null,
      result: buildStepResult(this.store, runId, stepIndex),
    });
  }
}

/** The resources' counts as the wire names them. */
function wireResources(resources: SandboxResources) {
  const { temporaryDirectories, ...rest } = resources;
  return { ...rest, temporary_directories: temporaryDirectories };
}

/** The configured replica id, else the one kept in the store, else a new one (kept from then on). */
function replicaIdOf(store: SqliteStore, config: SelfPlayConfig): string {
  if (config.serve.replicaId) return config.serve.replicaId;
  const kept = serviceState(store, "replica_id");
  if (kept) return kept;
  const made = `r${randomBytes(4).toString("hex")}`;
  setServiceState(store, "replica_id", made);
  return made;
}

/** JSON with sorted keys, so equal requests compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, entry: unknown) =>
    entry && typeof entry === "object" && !Array.isArray(entry)
      ? Object.fromEntries(Object.entries(entry).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : entry,
  );
}

/** The path of the first place two JSON values differ, or null when they are equal. */
export function firstDifference(stored: unknown, given: unknown, path: string): string | null {
  if (stored === given) return null;
  if (stored && given && typeof stored === "object" && typeof given === "object" && !Array.isArray(stored)) {
    const left = stored as Record<string, unknown>;
    const right = given as Record<string, unknown>;
    for (const key of [...new Set([...Object.keys(left), ...Object.keys(right)])].sort()) {
      const difference = firstDifference(left[key], right[key], `${path}.${key}`);
      if (difference !== null) return difference;
    }
    return null;
  }
  return JSON.stringify(stored) === JSON.stringify(given) ? null : path;
}
