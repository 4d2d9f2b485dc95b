// Check 7, inverse mutation (the paper's key check): for each file the bug touches, revert that file alone to
// the original and run the oracle tests; at least one F2P test must pass again, else the file does not
// contribute to the bug and the artifact is rejected. A one-file bug's inverse is the original itself, whose
// baseline passes every F2P test.
import type { TestRun } from "../../ports/validation.js";
import { tamperedFailure } from "../harness/verdicts.js";
import { restoredBy } from "../test-sets.js";
import { type Failure, listIds, resultsOf, type Verdict } from "./verdict.js";

export interface FileContribution {
  file: string;
  /** F2P tests that pass again when this file alone is reverted. */
  restoredTests: string[];
}

/** The run with every bug file but `file`: what reverting `file` restores, or the failure of a tampered run. */
export function judgeInverseRun(
  file: string,
  run: TestRun,
  f2p: readonly string[],
): { status: "tampered"; failure: Failure } | { status: "judged"; contribution: FileContribution } {
  if (run.status === "tampered")
    return { status: "tampered", failure: tamperedFailure(`inverse:${file}`, run) };
  return { status: "judged", contribution: { file, restoredTests: restoredBy(f2p, resultsOf(run)) } };
}

/** The one file of a one-file bug: reverting it gives the original, where every F2P test passed. */
export function originalAsInverse(file: string, f2p: readonly string[]): FileContribution {
  return { file, restoredTests: [...f2p] };
}

export function judgeInverseMutation(contributions: readonly FileContribution[]): Verdict {
  const idle = contributions.filter((entry) => entry.restoredTests.length === 0).map((entry) => entry.file);
  const evidence = { contributions, nonContributing: idle };
  if (idle.length === 0) return { status: "passed", evidence };
  const one = idle.length === 1;
  return {
    status: "failed",
    reason: `reverting ${one ? "this bug file" : "these bug files"} alone makes no F2P test pass again, so ${one ? "it does" : "they do"} not contribute to the bug: ${listIds(idle)}`,
    evidence,
  };
}
