// Deterministic seeds and choices: a step's seed, strategy and attempt seeds derive from the run seed and
// the step index, so a step redone after a crash is the same step.
import { createHash } from "node:crypto";
import type { Strategy } from "../ports/artifact.js";

/** A 31-bit seed derived from a base seed and a path of labels. */
export function deriveSeed(base: number, ...parts: (string | number)[]): number {
  const hash = createHash("sha256").update(`${base}`);
  for (const part of parts) hash.update(`/${part}`);
  return hash.digest().readUInt32BE(0) & 0x7fffffff;
}

/** Picks a strategy with probability proportional to its weight, from a seed. */
export function chooseStrategy(mix: Readonly<Record<Strategy, number>>, seed: number): Strategy {
  const entries = (Object.entries(mix) as [Strategy, number][]).filter(([, weight]) => weight > 0);
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  if (entries.length === 0 || total <= 0) throw new RangeError("strategy mix has no positive weight");
  let point = (deriveSeed(seed, "strategy") / 0x80000000) * total;
  for (const [strategy, weight] of entries) {
    if (point < weight) return strategy;
    point -= weight;
  }
  return entries[entries.length - 1]![0];
}
