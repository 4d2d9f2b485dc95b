// Pure set arithmetic behind the checks: flaky and passing baseline tests, F2P/P2P, what a weakening hides,
// what reverting one bug file restores. A test missing from a run counts as not passing.
import type { TestResults } from "../ports/validation.js";

export interface BaselineSets {
  /** Passed in every baseline run (flaky excluded by construction). */
  passing: string[];
  /** Result differs between baseline runs (including present in one run, missing in another). */
  flaky: string[];
  /** Every test id any baseline run reported. */
  all: string[];
}

export function classifyBaseline(runs: readonly TestResults[]): BaselineSets {
  const ids = new Set<string>();
  for (const run of runs) for (const id of Object.keys(run)) ids.add(id);
  const passing: string[] = [];
  const flaky: string[] = [];
  for (const id of ids) {
    const statuses = new Set(runs.map((run) => run[id] ?? "missing"));
    if (statuses.size > 1) flaky.push(id);
    else if (statuses.has("passed")) passing.push(id);
  }
  return { passing: passing.sort(), flaky: flaky.sort(), all: [...ids].sort() };
}

/** F2P: baseline-passing tests that do not pass with the bug; P2P: those that still pass. */
export function splitByBug(
  baselinePassing: readonly string[],
  bugResults: TestResults | null,
): { f2p: string[]; p2p: string[] } {
  const f2p: string[] = [];
  const p2p: string[] = [];
  for (const id of baselinePassing) {
    if (bugResults?.[id] === "passed") p2p.push(id);
    else f2p.push(id);
  }
  return { f2p, p2p };
}

/**
 * Which F2P tests the weakening hides. A test still fails when it fails or errors with bug + weakening, or
 * is missing from both runs (the bug itself made it vanish). A test present with the bug and missing with
 * bug + weakening was removed by the weakening (the only difference between the two runs), so it is hidden,
 * as is one that passes or is skipped.
 */
export function weakeningEffect(
  f2p: readonly string[],
  bugResults: TestResults | null,
  weakenedResults: TestResults | null,
): { hidden: string[]; stillFailing: string[] } {
  // A weakened run that produced no results (timed out, parser failed) hides nothing.
  if (weakenedResults === null) return { hidden: [], stillFailing: [...f2p] };
  const hidden: string[] = [];
  const stillFailing: string[] = [];
  for (const id of f2p) {
    const weakened = weakenedResults[id];
    const withBug = bugResults?.[id];
    const fails =
      weakened === "failed" || weakened === "error" || (weakened === undefined && withBug === undefined);
    (fails ? stillFailing : hidden).push(id);
  }
  return { hidden, stillFailing };
}

/** F2P tests that pass again when one bug file alone is reverted. */
export function restoredBy(f2p: readonly string[], revertedResults: TestResults | null): string[] {
  return f2p.filter((id) => revertedResults?.[id] === "passed");
}

/** Ids in `a` and `b` whose statuses differ (for the parser determinism check). */
export function differingIds(a: TestResults, b: TestResults): string[] {
  const ids = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...ids].filter((id) => a[id] !== b[id]).sort();
}
