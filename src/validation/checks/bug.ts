// Check 5, the bug: with the bug alone at least `minFailingTests` baseline-passing tests do not pass (F2P; a
// test that disappears counts as not passing), and at least one still passes (P2P): a bug that breaks
// everything, such as a syntax error, is not a bug.
import type { TestRun } from "../../ports/validation.js";
import { tamperedFailure } from "../harness/verdicts.js";
import { splitByBug } from "../test-sets.js";
import { describeFailure, resultsOf, type Verdict } from "./verdict.js";

export interface BugInput {
  /** Tests that passed in every baseline run. */
  passing: readonly string[];
  /** The run with the bug alone. */
  run: TestRun;
  minFailingTests: number;
}

/** F2P and P2P are empty when the run is tampered: nothing it reported can be believed. */
export function judgeBug({ passing, run, minFailingTests }: BugInput): {
  verdict: Verdict;
  f2p: string[];
  p2p: string[];
} {
  if (run.status === "tampered") return { verdict: tamperedFailure("bug", run), f2p: [], p2p: [] };
  const { f2p, p2p } = splitByBug(passing, resultsOf(run));
  const evidence = {
    f2p,
    p2p: p2p.length,
    run: run.status,
    minFailingTests,
    ...(run.status === "ok" ? {} : { message: run.message, outputTail: run.outputTail }),
  };
  if (f2p.length < minFailingTests) {
    const reason = `with the bug ${f2p.length} baseline-passing test(s) fail; at least ${minFailingTests} must`;
    return { verdict: { status: "failed", reason, evidence }, f2p, p2p };
  }
  if (p2p.length === 0) {
    const why = run.status === "ok" ? "" : ` (the test run ${describeFailure(run)})`;
    const reason = `with the bug no baseline-passing test passes any more${why}: a bug that breaks everything is not a bug`;
    return { verdict: { status: "failed", reason, evidence }, f2p, p2p };
  }
  return { verdict: { status: "passed", evidence }, f2p, p2p };
}
