// Where a service step runs: the service's own run in the store (one per replica, resumed at every
// start), and for each accepted request its run step: environment, strategy and seed for a self-play
// step, or the given artifact for a repair-only one.
import { artifactId as contentId } from "../artifact/index.js";
import type { SelfPlayConfig } from "../config/index.js";
import type { BugArtifact, Strategy } from "../ports/artifact.js";
import { NextSteps, openRun } from "../selfplay/index.js";
import {
  type ArtifactId,
  insertRepairStep,
  nextStepIndex,
  type RunId,
  type ServiceStepRecord,
  type SqliteStore,
  type StepRecord,
  serviceState,
  setServiceState,
  startServiceStep,
} from "../store/index.js";
import { RequestError } from "./request-error.js";
import type { SolveBody, StepBody } from "./schemas.js";

/** Opens the replica's run (kept in the store) or creates it; episodes left running by a crash are aborted. */
export function openServiceRun(store: SqliteStore, config: SelfPlayConfig, replicaId: string): RunId {
  const kept = serviceState(store, "run_id") as RunId | null;
  const { run, resumed } = openRun(store, config, {
    resume: kept && store.getRun(kept) ? kept : null,
    create: { id: `serve-${replicaId}` as RunId, seed: config.seed },
  });
  if (!resumed) setServiceState(store, "run_id", run.id);
  return run.id;
}

export interface StepPlan {
  step: StepRecord;
  resumed: boolean;
}

export class StepPlanner {
  private readonly names: string[];
  private readonly nextSteps: NextSteps;

  constructor(
    private readonly store: SqliteStore,
    config: SelfPlayConfig,
    private readonly runId: RunId,
  ) {
    this.names = config.environments.map((environment) => environment.name);
    this.nextSteps = new NextSteps(config, store, store.getRun(runId)!);
  }

  /** Strategies the environments cannot serve (a probe at start): never chosen for them. */
  knowUnserved(unserved: ReadonlyMap<string, readonly Strategy[]>): void {
    this.nextSteps.knowUnserved(unserved);
  }

  /** Refuses what cannot run here, before anything is stored. */
  check(kind: "step" | "solve", body: StepBody | SolveBody): void {
    this.environmentNamed(body.environment, "body.environment");
    if (kind !== "solve") return;
    const solve = body as SolveBody;
    if (solve.artifact_id !== undefined && !this.store.getArtifact(solve.artifact_id as ArtifactId))
      throw new RequestError(400, "unknown-artifact", `no stored artifact ${solve.artifact_id}`, {
        path: "body.artifact_id",
      });
    if (solve.swebench_instance)
      this.environmentNamed(
        solve.environment ?? solve.swebench_instance.repo,
        solve.environment ? "body.environment" : "body.swebench_instance.repo",
      );
  }

  /** The run step of a service step: the one it started on, or a new one (started in the same transaction). */
  plan(record: ServiceStepRecord): StepPlan {
    if (record.runId !== null && record.stepIndex !== null) {
      const step = this.store.getStep(record.runId, record.stepIndex);
      if (step) return { step, resumed: true };
    }
    return {
      step: this.store.transaction(() => {
        const stepIndex = nextStepIndex(this.store, this.runId);
        const step = this.newRunStep(JSON.parse(record.request), record.kind, stepIndex);
        startServiceStep(this.store, record.stepId, this.runId, stepIndex);
        return step;
      }),
      resumed: false,
    };
  }

  private environmentNamed(name: string | undefined, path: string): void {
    if (name !== undefined && !this.names.includes(name))
      throw new RequestError(
        400,
        "unknown-environment",
        `no environment "${name}"; configured: ${this.names.join(", ")}`,
        { path },
      );
  }

  private newRunStep(body: StepBody & SolveBody, kind: "step" | "solve", stepIndex: number): StepRecord {
    const { store, runId } = this;
    const seed = body.sampling?.seed ?? this.nextSteps.seed(stepIndex);
    if (kind === "solve") {
      const { artifact, environment } = this.repairTarget(body);
      const id = contentId(artifact) as ArtifactId;
      return insertRepairStep(store, { runId, stepIndex, environment, seed, artifactId: id, artifact });
    }
    const given = { seed, ...(body.strategy === undefined ? {} : { strategy: body.strategy }) };
    // A request names its environment or takes the next active one; with none active, the first configured
    // one plays and the step says why it fails.
    return (
      this.nextSteps.insert(stepIndex, {
        ...given,
        ...(body.environment === undefined ? {} : { environment: body.environment }),
      }) ?? this.nextSteps.insert(stepIndex, { ...given, environment: this.names[0]! })!
    );
  }

  private repairTarget(body: SolveBody): { artifact: BugArtifact; environment: string } {
    if (body.artifact_id !== undefined) {
      const stored = this.store.getArtifact(body.artifact_id as ArtifactId)!;
      return { artifact: stored.artifact, environment: body.environment ?? stored.meta.environment };
    }
    const instance = body.swebench_instance!;
    const environment = body.environment ?? instance.repo;
    return {
      environment,
      artifact: {
        testScript: instance.test_script,
        testFiles: instance.test_files,
        testParser: instance.test_parser,
        bugInjectDiff: instance.bug_patch,
        testWeakenDiff: instance.weaken_patch,
        meta: {
          environment,
          strategy: "direct",
          order: 1,
          parentId: null,
          policy: `swebench:${instance.instance_id}`,
          createdAt: new Date().toISOString(),
        },
      },
    };
  }
}
