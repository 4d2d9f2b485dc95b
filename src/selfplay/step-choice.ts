// What a new step plays: its seed (derived from the run's), its environment (round-robin over the active
// ones) and its strategy (from the environment's current weights, see strategy-weights.ts). The run loop
// and the service both choose and insert their steps through NextSteps.
import type { SelfPlayConfig } from "../config/index.js";
import { createLogger } from "../log.js";
import { STRATEGIES_OF_DIFFICULTY, type Strategy } from "../ports/artifact.js";
import type { RunId, RunRecord, StepRecord, Store } from "../ports/store.js";
import { chooseStrategy, deriveSeed } from "./seeds.js";
import {
  configuredWeights,
  learnabilityEnabled,
  type StrategyOutcome,
  strategyOutcomes,
  strategyWeights,
} from "./strategy-weights.js";

const log = createLogger("selfplay");

/** Round-robin over the environments still active, so one broken environment does not stop the run. */
export function pickEnvironment(
  store: Store,
  runId: RunId,
  configured: readonly string[],
  stepIndex: number,
): string | null {
  const active = new Set(
    store
      .listEnvironments(runId)
      .filter((environment) => environment.status === "active")
      .map((environment) => environment.name),
  );
  const playable = configured.filter((name) => active.has(name));
  if (playable.length === 0) return null;
  return playable[stepIndex % playable.length]!;
}

/** The weights with the strategies that cannot make bugs of the configured difficulty at 0. */
export function levelWeights(
  weights: Record<Strategy, number>,
  difficulty: SelfPlayConfig["difficulty"],
): Record<Strategy, number> {
  if (difficulty === "any") return weights;
  const serving = STRATEGIES_OF_DIFFICULTY[difficulty];
  return Object.fromEntries(
    Object.entries(weights).map(([strategy, weight]) => [
      strategy,
      serving.includes(strategy as Strategy) ? weight : 0,
    ]),
  ) as Record<Strategy, number>;
}

/** Chooses strategies by weight, logging once per (environment, strategy) that cannot apply. */
export class StrategyChooser {
  private readonly unavailableLogged = new Set<string>();
  /** Strategies known before any step not to apply to an environment (see environment-probe.ts). */
  private readonly unserved: StrategyOutcome[] = [];

  constructor(
    private readonly config: SelfPlayConfig,
    private readonly store: Store,
  ) {}

  /** Records what a probe found: these strategies are never chosen on these environments. */
  knowUnserved(unserved: ReadonlyMap<string, readonly Strategy[]>): void {
    for (const [environment, strategies] of unserved)
      for (const strategy of strategies) this.unserved.push({ environment, strategy, result: "unavailable" });
  }

  choose(runId: RunId, environment: string, seed: number): Strategy {
    const base = levelWeights(
      configuredWeights(this.config.strategies, this.config.policy.kind),
      this.config.difficulty,
    );
    const { weights, unavailable, measured } = strategyWeights(
      environment,
      [...this.unserved, ...strategyOutcomes(this.store.listSteps(runId), this.store.listGroups(runId))],
      {
        base,
        learnability: learnabilityEnabled(this.config.strategyAdaptation, this.config.policy.kind),
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
}

/** What a caller fixes of a new step; the rest is chosen. */
export interface StepChoice {
  environment?: string;
  strategy?: Strategy;
  seed?: number;
}

/** Chooses and inserts the new steps of one run. */
export class NextSteps {
  private readonly names: string[];
  private readonly strategies: StrategyChooser;

  constructor(
    config: SelfPlayConfig,
    private readonly store: Store,
    private readonly run: Pick<RunRecord, "id" | "seed">,
  ) {
    this.names = config.environments.map((environment) => environment.name);
    this.strategies = new StrategyChooser(config, store);
  }

  /** Strategies the environments cannot serve, from a probe before the first new step. */
  knowUnserved(unserved: ReadonlyMap<string, readonly Strategy[]>): void {
    this.strategies.knowUnserved(unserved);
  }

  /** The seed of step `stepIndex`, derived from the run's seed. */
  seed(stepIndex: number): number {
    return deriveSeed(this.run.seed, "step", stepIndex);
  }

  /**
   * Inserts step `stepIndex` with what `given` fixes and the rest chosen; null when no environment is
   * given and none of the configured ones is active.
   */
  insert(stepIndex: number, given: StepChoice = {}): StepRecord | null {
    const runId = this.run.id;
    const seed = given.seed ?? this.seed(stepIndex);
    const environment = given.environment ?? pickEnvironment(this.store, runId, this.names, stepIndex);
    if (!environment) return null;
    const strategy = given.strategy ?? this.strategies.choose(runId, environment, seed);
    return this.store.insertStep({ runId, stepIndex, environment, strategy, seed });
  }
}
