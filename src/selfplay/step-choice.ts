// What a new step plays: its environment (round-robin over the active ones) and its strategy (from the
// environment's current weights, see strategy-weights.ts). The run loop and the service both choose so.
import type { SelfPlayConfig } from "../config/index.js";
import { createLogger } from "../log.js";
import type { Strategy } from "../ports/artifact.js";
import type { RunId, Store } from "../ports/store.js";
import { chooseStrategy } from "./seeds.js";
import {
  configuredWeights,
  learnabilityEnabled,
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

/** Chooses strategies by weight, logging once per (environment, strategy) that cannot apply. */
export class StrategyChooser {
  private readonly unavailableLogged = new Set<string>();

  constructor(
    private readonly config: SelfPlayConfig,
    private readonly store: Store,
  ) {}

  choose(runId: RunId, environment: string, seed: number): Strategy {
    const base = configuredWeights(this.config.strategies, this.config.policy.kind);
    const { weights, unavailable, measured } = strategyWeights(
      environment,
      strategyOutcomes(this.store.listSteps(runId), this.store.listGroups(runId)),
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
