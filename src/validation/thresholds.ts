// Default thresholds of the consistency checks (DESIGN §3); callers override any of them.
import type { Thresholds } from "../ports/validation.js";

/** Test runs one validation keeps in flight when its caller says nothing. */
export const DEFAULT_TEST_RUN_CONCURRENCY = 8;

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  minPassingTests: 10,
  minChangedFiles: 1,
  minFailingTests: 1,
  baselineRuns: 2,
  testTimeoutMs: 90_000,
});

/** Defaults with the given fields replaced; rejects values that would make a check meaningless. */
export function resolveThresholds(overrides: Partial<Thresholds> = {}): Thresholds {
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS };
  for (const [key, value] of Object.entries(overrides) as [keyof Thresholds, number | undefined][]) {
    if (value !== undefined) thresholds[key] = value;
  }
  const integers: (keyof Thresholds)[] = [
    "minPassingTests",
    "minChangedFiles",
    "minFailingTests",
    "baselineRuns",
  ];
  for (const key of integers) {
    if (!Number.isInteger(thresholds[key]) || thresholds[key] < 0) {
      throw new RangeError(`threshold ${key} must be a non-negative integer, got ${thresholds[key]}`);
    }
  }
  if (thresholds.baselineRuns < 1) throw new RangeError("threshold baselineRuns must be at least 1");
  if (!(thresholds.testTimeoutMs > 0)) {
    throw new RangeError(`threshold testTimeoutMs must be positive, got ${thresholds.testTimeoutMs}`);
  }
  return thresholds;
}
