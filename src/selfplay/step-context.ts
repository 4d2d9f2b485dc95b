// What every stage of a step shares: the runner's long-lived parts (store, limited sandboxes, validator,
// stage semaphores, duplicate registry) and the step's own choices (policies, group size, signal, events).
import { randomBytes } from "node:crypto";
import type { Semaphore } from "../concurrency/semaphore.js";
import type { SelfPlayConfig } from "../config/index.js";
import { errorMessage, InputError } from "../errors.js";
import type { Policy, PolicyEpisode } from "../ports/policy.js";
import type { Environment } from "../ports/sandbox.js";
import type { EpisodeId, RunId, Store } from "../ports/store.js";
import type { Validator } from "../validation/index.js";
import type { DuplicateRegistry } from "./dedupe.js";
import type { EarlyStop } from "./early-stop.js";
import type { SelfPlayEvent } from "./events.js";
import type { LimitedSandboxBackend } from "./sandbox-limit.js";

/** Why a unit of work stopped without a result: the run or the step was interrupted, nothing to record. */
export class Interrupted extends Error {}

/** The parts a step runner keeps for every step it runs. */
export interface RunnerParts {
  config: SelfPlayConfig;
  store: Store;
  sandboxes: LimitedSandboxBackend;
  validator: Validator;
  stages: { proposers: Semaphore; validations: Semaphore; solvers: Semaphore };
  environments: ReadonlyMap<string, Environment>;
  earlyStop: EarlyStop;
  duplicates: DuplicateRegistry;
  /** Second-order artifacts being validated or solved in this process. */
  secondOrderClaims: Set<string>;
}

/** One step's view: the runner's parts plus the choices of this step. */
export interface StepScope extends RunnerParts {
  runId: RunId;
  proposer: Policy;
  solver: Policy;
  groupSize: number;
  /** Repair only: no duplicate check, no second-order bugs. */
  repairOnly: boolean;
  /** Aborted when the runner or this step is interrupted. */
  signal: AbortSignal;
  emit: (event: SelfPlayEvent) => void;
}

export function environmentOf(scope: StepScope, name: string): Environment {
  const environment = scope.environments.get(name);
  if (!environment)
    throw new InputError(
      "environment-missing",
      `the run has a step on environment "${name}", which the configuration no longer names: add it back to resume`,
    );
  return environment;
}

export function proposerGroupId(runId: RunId, stepIndex: number): string {
  return `${runId}/step-${stepIndex}`;
}

/** A permit of `semaphore`, or Interrupted when the step stops while waiting. */
export async function acquireOrThrow(semaphore: Semaphore, signal: AbortSignal): Promise<() => void> {
  try {
    return await semaphore.acquire(signal);
  } catch {
    throw new Interrupted("interrupted while waiting for a slot");
  }
}

export function throwIfInterrupted(signal: AbortSignal, where: string): void {
  if (signal.aborted) throw new Interrupted(`interrupted ${where}`);
}

export function newEpisodeId(prefix: string): EpisodeId {
  return `${prefix}-${randomBytes(4).toString("hex")}` as EpisodeId;
}

export function failedEpisode(role: "proposer" | "solver", policy: Policy, error: unknown): PolicyEpisode {
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

/** Environments of the configuration by name, as sandboxes see them. */
export function environmentsOf(config: SelfPlayConfig): Map<string, Environment> {
  return new Map(config.environments.map((environment) => [environment.name, environmentSpec(environment)]));
}

/** One configured environment as sandboxes see it (and the store records it). */
export function environmentSpec(environment: SelfPlayConfig["environments"][number]): Environment {
  const backend = environment.backend ? { backend: environment.backend } : {};
  return "path" in environment
    ? { kind: "dir", path: environment.path, ...backend }
    : {
        kind: "image",
        image: environment.image,
        ...(environment.workdir ? { workdir: environment.workdir } : {}),
        ...backend,
      };
}
