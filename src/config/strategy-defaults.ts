// Strategy weights as configured, with the policy-dependent default of direct filled in: written once here,
// read by the configuration's own checks and by the scheduler (src/selfplay/strategy-weights.ts); and the
// difficulty setting, which only the strategies that make its level can serve.
import { z } from "zod";
import { STRATEGIES_OF_DIFFICULTY, type Strategy } from "../ports/artifact.js";
import { searchesBuiltin } from "./policy-kinds.js";

/**
 * The configured weights with policy defaults filled in. Direct: 1 for the builtin policy (and its demonstrations), whose repair
 * solver reverses mutations but cannot rebuild removed code (measured on Python, JavaScript and Go
 * libraries: 9 of 12 direct groups learnable, 0 of 9 removal groups), so direct leads where history is
 * unavailable; 0 for model policies (the paper's worst strategy).
 */
export function configuredWeights(
  strategies: { removal: number; history: number; direct?: number | undefined },
  policyKind: string,
): Record<Strategy, number> {
  return {
    removal: strategies.removal,
    history: strategies.history,
    direct: strategies.direct ?? (searchesBuiltin(policyKind) ? 1 : 0),
  };
}

export const difficultySchema = z.union([
  z.literal("any"),
  z.literal(1),
  z.literal(2),
  z.literal(3),
  z.literal(4),
]);

/** A difficulty no strategy with a positive weight can make would fail every step: refused at load. */
export function checkDifficulty(
  config: {
    difficulty: z.output<typeof difficultySchema>;
    strategies: { removal: number; history: number; direct?: number | undefined };
    policy: { kind: string };
  },
  context: z.RefinementCtx,
): void {
  if (config.difficulty === "any") return;
  const weights = configuredWeights(config.strategies, config.policy.kind);
  const serving = STRATEGIES_OF_DIFFICULTY[config.difficulty];
  if (serving.some((strategy) => weights[strategy] > 0)) return;
  context.addIssue({
    code: "custom",
    path: ["difficulty"],
    message: `difficulty ${config.difficulty} is made by ${serving.join(" or ")}, whose weight is 0: set strategies.${serving[0]} above 0`,
  });
}
