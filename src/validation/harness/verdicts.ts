// What validation reports about the harness and about runs that lied: the proposer's bug edits that pinning
// ignores, and the evidence that rejects an artifact whose run was tampered with.
import type { TestRun } from "../../ports/validation.js";
import type { ShapeSummary } from "../checks/shape.js";
import { harnessPaths } from "./harness-files.js";

/** The bug's edits to harness files, which every validation run puts back: evidence of the shape check. */
export function harnessEvidence(summary: ShapeSummary): { harnessEditsIgnored?: string[] } {
  const ignored = harnessPaths(summary.bugPaths, summary.oracleFiles);
  return ignored.length > 0 ? { harnessEditsIgnored: ignored } : {};
}

/** The failure of the check a tampered run belongs to. */
export function tamperedFailure(
  label: string,
  run: Exclude<TestRun, { status: "ok" }>,
): { status: "failed"; reason: string; evidence: Record<string, unknown> } {
  return {
    status: "failed",
    reason: `the test run ${label} is tampered: ${run.message}`,
    evidence: { tampered: true, run: label, message: run.message, outputTail: run.outputTail },
  };
}
