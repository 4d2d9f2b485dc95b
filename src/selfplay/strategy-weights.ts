// Strategy weights per environment: a strategy that cannot apply there (e.g. history on a repository with
// one commit) drops to 0 at once; with the learnability bandit, weights follow each strategy's measured
// share of steps whose solver group had 0 < s < 1, never below a floor. Pure.
import { searchesBuiltin } from "../config/policy-kinds.js";
import type { Strategy } from "../ports/artifact.js";
import { isFinished } from "./step-state.js";

export { configuredWeights } from "../config/strategy-defaults.js";

export const STRATEGIES: readonly Strategy[] = ["removal", "history", "direct"];

/** What one finished proposer step says about its strategy on its environment. */
export interface StrategyOutcome {
  environment: string;
  strategy: Strategy;
  /** learnable: its group had 0 < s < 1; unlearnable: anything else finished; unavailable: cannot apply. */
  result: "learnable" | "unlearnable" | "unavailable";
}

export interface StrategyWeightOptions {
  /** Configured weights: the prior, and which strategies may be played at all (weight > 0). */
  base: Readonly<Record<Strategy, number>>;
  learnability: boolean;
  /** Least weight of a playable strategy under the bandit, so none starves before it is measured well. */
  floor: number;
}

export interface StrategyWeights {
  weights: Record<Strategy, number>;
  unavailable: Strategy[];
  /** Per strategy: steps finished and how many were learnable, for logs. */
  measured: Record<Strategy, { steps: number; learnable: number }>;
}

export function strategyWeights(
  environment: string,
  outcomes: readonly StrategyOutcome[],
  options: StrategyWeightOptions,
): StrategyWeights {
  const measured = Object.fromEntries(
    STRATEGIES.map((strategy) => [strategy, { steps: 0, learnable: 0 }]),
  ) as Record<Strategy, { steps: number; learnable: number }>;
  const unavailable = new Set<Strategy>();
  for (const outcome of outcomes) {
    if (outcome.environment !== environment) continue;
    if (outcome.result === "unavailable") {
      unavailable.add(outcome.strategy);
      continue;
    }
    measured[outcome.strategy].steps++;
    if (outcome.result === "learnable") measured[outcome.strategy].learnable++;
  }
  const total = STRATEGIES.reduce((sum, strategy) => sum + Math.max(0, options.base[strategy]), 0);
  const weights = {} as Record<Strategy, number>;
  for (const strategy of STRATEGIES) {
    const base = Math.max(0, options.base[strategy]);
    if (base === 0 || unavailable.has(strategy)) {
      weights[strategy] = 0;
      continue;
    }
    if (!options.learnability) {
      weights[strategy] = base;
      continue;
    }
    // The configured share is the prior, worth one step; measured learnable steps move it from there.
    const { steps, learnable } = measured[strategy];
    const share = (learnable + base / total) / (steps + 1);
    weights[strategy] = Math.max(options.floor, share);
  }
  return { weights, unavailable: [...unavailable].sort(), measured };
}

/** Prefix of a step's recorded reason when its strategy cannot apply to the environment. */
export const UNAVAILABLE_PREFIX = "strategy unavailable: ";

/** Whether the learnability bandit runs: as configured, else on for the builtin policy and off for models. */
export function learnabilityEnabled(
  adaptation: { learnability?: boolean | undefined },
  policyKind: string,
): boolean {
  return adaptation.learnability ?? searchesBuiltin(policyKind);
}

/** What the run's finished steps say about their strategies, from the stored steps and solver groups. */
export function strategyOutcomes(
  steps: readonly {
    stepIndex: number;
    environment: string;
    strategy: string;
    state: string;
    outcome: string | null;
    error: string | null;
  }[],
  groups: readonly { stepIndex: number; order: number; state: string; solveRate: number | null }[],
): StrategyOutcome[] {
  const rates = new Map<number, number>();
  for (const group of groups)
    if (group.order === 1 && group.state === "graded" && group.solveRate !== null)
      rates.set(group.stepIndex, group.solveRate);
  const outcomes: StrategyOutcome[] = [];
  for (const step of steps) {
    if (!(STRATEGIES as readonly string[]).includes(step.strategy)) continue;
    const base = { environment: step.environment, strategy: step.strategy as Strategy };
    if (step.error?.startsWith(UNAVAILABLE_PREFIX)) {
      outcomes.push({ ...base, result: "unavailable" });
      continue;
    }
    if (!isFinished(step)) continue;
    // A failed step says nothing about its strategy (the environment or the infrastructure broke).
    if (step.state === "failed") continue;
    const rate = rates.get(step.stepIndex);
    outcomes.push({
      ...base,
      result: rate !== undefined && rate > 0 && rate < 1 ? "learnable" : "unlearnable",
    });
  }
  return outcomes;
}
