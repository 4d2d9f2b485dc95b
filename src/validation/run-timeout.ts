// Limits derived from a measured baseline (factor × the slowest baseline run + a fixed margin, capped), so a
// bug or a patch that makes tests hang is not waited on for long.

export interface RunTimeout {
  factor: number;
  fixedMs: number;
}

export const DEFAULT_RUN_TIMEOUT: Readonly<RunTimeout> = Object.freeze({ factor: 5, fixedMs: 30_000 });

/** `capMs` when no baseline run is known. */
export function timeoutFromBaseline(
  baselineMs: readonly number[],
  timeout: RunTimeout,
  capMs: number,
): number {
  if (baselineMs.length === 0) return capMs;
  return Math.min(capMs, Math.round(timeout.factor * Math.max(...baselineMs) + timeout.fixedMs));
}
