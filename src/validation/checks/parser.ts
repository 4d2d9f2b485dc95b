// Check 2, the parser: on the first baseline run test_parser.py prints a non-empty object of the right shape,
// and gives the same answer when run a second time on the same output.
import type { TestResults, TestRun } from "../../ports/validation.js";
import type { ParserOutcome } from "../../test-run/run-test-suite.js";
import { differingIds } from "../test-sets.js";
import { describeFailure, type FailedRun, listIds, type Verdict } from "./verdict.js";

export interface ParserInput {
  /** The first baseline run. */
  run: TestRun;
  /** Its parsed results without canaries, also when the run is tampered; null when parsing failed. */
  results: TestResults | null;
  /** The second parse of the same output; null when there was none. */
  reparsed: ParserOutcome | null;
}

export function judgeParser({ run, results, reparsed }: ParserInput): Verdict {
  // A tampered run was parsed all the same: the parser is judged first, the canaries at the baseline check.
  if (results !== null) {
    if (reparsed?.status !== "ok") {
      return {
        status: "failed",
        reason: `test_parser.py failed on its second run over the same output (${reparsed?.status}: ${reparsed && "message" in reparsed ? reparsed.message : "aborted"})`,
        evidence: { deterministic: false },
      };
    }
    const differing = differingIds(results, reparsed.results);
    if (differing.length === 0)
      return { status: "passed", evidence: { tests: Object.keys(results).length, deterministic: true } };
    return {
      status: "failed",
      reason: `test_parser.py gives different answers on the same output: ${differing.length} test(s) differ (${listIds(differing)})`,
      evidence: { deterministic: false, differing },
    };
  }
  if (run.status === "timed-out" || run.status === "aborted") {
    return {
      status: "failed",
      reason: `test_script.sh on the original code ${run.status === "timed-out" ? "timed out" : "was aborted"} (${run.message}), so the parser had no output to read`,
      evidence: { run: run.status, outputTail: run.outputTail },
    };
  }
  // No results means the parse failed, so the run is one of the failures.
  const failed = run as FailedRun;
  return {
    status: "failed",
    reason: `on the original code ${describeFailure(failed)}`,
    evidence: { run: failed.status, outputTail: failed.outputTail },
  };
}
