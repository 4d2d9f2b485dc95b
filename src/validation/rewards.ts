// Rewards of the two roles (DESIGN §1): pure functions of a verdict and a solve rate.
import { InputError } from "../errors.js";

export const DEFAULT_ALPHA = 0.8;

/** +1 when the predicted patch resolved the bug, -1 otherwise. */
export function solverReward(resolved: boolean): 1 | -1 {
  return resolved ? 1 : -1;
}

/** Fraction of solver attempts that resolved the bug; an empty group has no solve rate. */
export function solveRate(resolved: readonly boolean[]): number {
  if (resolved.length === 0)
    throw new InputError("invalid-solve-rate", "solve rate of an empty group of attempts");
  return resolved.filter(Boolean).length / resolved.length;
}

/**
 * r_inject: -1 for an invalid artifact; -α when every or no solver attempt succeeded (too easy or too
 * hard, still a small gradient); 1 − (1 + α)·s otherwise, highest for rarely solved bugs.
 */
export function proposerReward(options: {
  valid: boolean;
  solveRate?: number | null;
  alpha?: number;
}): number {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  if (!Number.isFinite(alpha) || alpha < 0) {
    throw new InputError("invalid-alpha", `alpha must be a finite non-negative number, got ${alpha}`);
  }
  if (!options.valid) return -1;
  const rate = options.solveRate;
  if (rate === undefined || rate === null || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new InputError("invalid-solve-rate", `a valid artifact needs a solve rate in [0, 1], got ${rate}`);
  }
  if (rate === 0 || rate === 1) return -alpha;
  return 1 - (1 + alpha) * rate;
}
