// Check 3, the baseline: every run of the original code produced results, at least `minPassingTests` tests
// pass in all of them (a test whose result differs between runs is flaky, reported and left out), and the
// canaries vouch for each run.
import type { TestResults, TestRun } from "../../ports/validation.js";
import { tamperedFailure } from "../harness/verdicts.js";
import { type BaselineSets, classifyBaseline } from "../test-sets.js";
import { describeFailure, type FailedRun, type Verdict } from "./verdict.js";

export interface BaselineInput {
  runs: readonly TestRun[];
  /** Each run's parsed results without canaries, also when the run is tampered; null when parsing failed. */
  results: readonly (TestResults | null)[];
  minPassingTests: number;
}

/** `sets` is null when a run produced no results, so nothing could be classified. */
export function judgeBaseline(input: BaselineInput): { verdict: Verdict; sets: BaselineSets | null } {
  const { runs, results, minPassingTests } = input;
  const failedRun = results.indexOf(null);
  if (failedRun >= 0) {
    const run = runs[failedRun] as FailedRun;
    return {
      verdict: {
        status: "failed",
        reason: `baseline run #${failedRun + 1} on the original code failed: ${describeFailure(run)}`,
        evidence: { run: failedRun + 1, status: run.status, outputTail: run.outputTail },
      },
      sets: null,
    };
  }
  const sets = classifyBaseline(results as TestResults[]);
  const evidence = {
    runs: runs.length,
    passing: sets.passing.length,
    tests: sets.all.length,
    flaky: sets.flaky,
    minPassingTests,
  };
  if (sets.passing.length < minPassingTests) {
    const reason = `the original code passes ${sets.passing.length} test(s) in every baseline run; at least ${minPassingTests} are required`;
    return { verdict: { status: "failed", reason, evidence }, sets };
  }
  const tampered = runs.findIndex((run) => run.status === "tampered");
  if (tampered >= 0)
    return { verdict: tamperedFailure(`baseline#${tampered + 1}`, runs[tampered] as FailedRun), sets };
  return { verdict: { status: "passed", evidence }, sets };
}
