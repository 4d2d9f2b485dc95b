// What every consistency check's judge returns: passed with the evidence behind it, or failed with a reason
// that names files and tests. Judges are pure: the runs' results in, a verdict out.
import type { TestResults, TestRun } from "../../ports/validation.js";

export type Evidence = Record<string, unknown>;
export type Failure = { status: "failed"; reason: string; evidence: Evidence };
export type Verdict = { status: "passed"; evidence: Evidence } | Failure;

/** A test run that produced no results. */
export type FailedRun = Exclude<TestRun, { status: "ok" }>;

/** The first `max` ids, and how many more there are. */
export function listIds(ids: readonly string[], max = 5): string {
  const shown = ids.slice(0, max).join(", ");
  return ids.length > max ? `${shown} and ${ids.length - max} more` : shown;
}

export function describeFailure(run: FailedRun): string {
  return `${run.status}: ${run.message}`;
}

export function resultsOf(run: TestRun): TestResults | null {
  return run.status === "ok" ? run.results : null;
}
