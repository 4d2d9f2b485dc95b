// Where a service step runs: the service's own run in the store (one per replica, resumed at every
// start), and for each accepted request its run step: environment, strategy and seed for a self-play
// step, or the given artifact for a repair-only one.
import { artifactId as contentId } from "../artifact/index.js";
import type { SelfPlayConfig } from "../config/index.js";
import type { BugArtifact } from "../ports/artifact.js";
import { deriveSeed, environmentSpec, pickEnvironment, StrategyChooser } from "../selfplay/index.js";
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
  let runId: RunId;
  if (kept && store.getRun(kept)) {
    runId = kept;
    store.restartRun(runId, config);
    store.abortRunningEpisodes(runId, "crashed");
    store.reactivateEnvironments(runId);
  } else {
    runId = `serve-${replicaId}` as RunId;
    if (!store.getRun(runId)) store.createRun({ id: runId, config, seed: config.seed });
    setServiceState(store, "run_id", runId);
  }
  for (const environment of config.environments)
    store.upsertEnvironment(runId, environment.name, environmentSpec(environment));
  return runId;
}

export interface StepPlan {
  step: StepRecord;
  resumed: boolean;
}

export class StepPlanner {
  private readonly names: string[];
  private readonly strategies: StrategyChooser;
  private readonly runSeed: number;

  constructor(
    private readonly store: SqliteStore,
    config: SelfPlayConfig,
    private readonly runId: RunId,
  ) {
    this.names = config.environments.map((environment) => environment.name);
    this.strategies = new StrategyChooser(config, store);
    this.runSeed = store.getRun(runId)!.seed;
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
    const seed = body.sampling?.seed ?? deriveSeed(this.runSeed, "step", stepIndex);
    if (kind === "solve") {
      const { artifact, environment } = this.repairTarget(body);
      const id = contentId(artifact) as ArtifactId;
      return insertRepairStep(store, { runId, stepIndex, environment, seed, artifactId: id, artifact });
    }
    const environment =
      body.environment ?? pickEnvironment(store, runId, this.names, stepIndex) ?? this.names[0]!;
    const strategy = body.strategy ?? this.strategies.choose(runId, environment, seed);
    return store.insertStep({ runId, stepIndex, environment, strategy, seed });
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
