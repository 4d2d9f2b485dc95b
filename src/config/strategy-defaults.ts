// Strategy weights as configured, with the policy-dependent default of direct filled in: written once here,
// read by the configuration's own checks and by the scheduler (src/selfplay/strategy-weights.ts).
import type { Strategy } from "../ports/artifact.js";
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
