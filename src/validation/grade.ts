// Grading (DESIGN §4): buggy state + predicted patch, oracle tests and harness restored to the original, one
// guarded test run with canaries; resolved iff every F2P and P2P test passes and the run's canaries vouch for
// it. A patch that does not apply is a result, not an error; a run that lies is `tampered`.
import { InputError } from "../errors.js";
import { createLogger } from "../log.js";
import type { GradeResult } from "../ports/validation.js";
import { applyBuggyState } from "./buggy-state.js";
import { prepareGuard, runGuarded, touchedPaths } from "./harness/guarded-run.js";
import type { GradeOptions } from "./options.js";
import { readOracleFiles, restoreOracleFiles } from "./oracle-files.js";
import { withSandbox } from "./sandbox-work.js";
import { DEFAULT_THRESHOLDS } from "./thresholds.js";

const log = createLogger("validation.grade");

/** 5 × the slowest baseline run of the report + 30 s, within the default limit; a hanging patch fails fast. */
export function timeoutFromReport(report: GradeOptions["report"]): number {
  const baseline = report.testRuns.filter((run) => run.label.startsWith("baseline") && run.status === "ok");
  if (baseline.length === 0) return DEFAULT_THRESHOLDS.testTimeoutMs;
  const slowest = Math.max(...baseline.map((run) => run.durationMs));
  return Math.min(DEFAULT_THRESHOLDS.testTimeoutMs, 5 * slowest + 30_000);
}

export async function grade(options: GradeOptions): Promise<GradeResult> {
  const { artifact, report } = options;
  if (report.verdict !== "valid" || report.f2p.length === 0) {
    throw new InputError(
      "grade-needs-valid-report",
      `grading needs the report of a valid artifact with F2P tests; artifact ${report.artifactId} is ${report.verdict}${report.failedCheck ? ` (failed check ${report.failedCheck})` : ""}`,
    );
  }
  const startedAt = performance.now();
  const result = (fields: Omit<GradeResult, "resolved" | "durationMs">): GradeResult => {
    const graded = {
      ...fields,
      resolved: fields.status === "resolved",
      durationMs: Math.round(performance.now() - startedAt),
    };
    log.info("patch-graded", {
      artifact: report.artifactId,
      status: graded.status,
      durationMs: graded.durationMs,
    });
    return graded;
  };
  const required = [...report.f2p, ...report.p2p];
  return withSandbox(options.sandboxes, options.environment, "grade", async (sandbox) => {
    const originals = await readOracleFiles(sandbox, artifact.testFiles);
    const guard = await prepareGuard(sandbox, {
      testFiles: artifact.testFiles,
      diffs: [artifact.bugInjectDiff, artifact.testWeakenDiff, options.extraPatch ?? "", options.patch],
      integrity: options.integrity,
      known: originals,
    });
    await applyBuggyState(sandbox, artifact, options.extraPatch);
    if (options.patch.trim() !== "") {
      const applied = await sandbox.applyPatch(options.patch);
      if (applied.status === "rejected") {
        return result({
          status: "patch-rejected",
          reason: `the predicted patch does not apply to the buggy state: ${applied.message}`,
          failedF2P: [...report.f2p],
          failedP2P: [...report.p2p],
        });
      }
    }
    await restoreOracleFiles(sandbox, originals);
    const timeoutMs = options.timeoutMs ?? timeoutFromReport(report);
    const guarded = await runGuarded(sandbox, guard, {
      testScript: artifact.testScript,
      testParser: artifact.testParser,
      timeoutMs,
      abortSignal: options.abortSignal,
    });
    // Only the predicted patch's own harness edits are the solver's; the artifact's were judged in validation.
    const patchFiles = new Set(touchedPaths([options.patch]));
    const ignored = guarded.harnessEditsIgnored.filter((entry) =>
      patchFiles.has(entry.replace(/ \(.*\)$/, "")),
    );
    const note = ignored.length > 0 ? ` (harness edits ignored: ${ignored.join(", ")})` : "";
    const withIgnored = (fields: Omit<GradeResult, "resolved" | "durationMs">) =>
      result({
        ...fields,
        reason: fields.reason === null && note === "" ? null : `${fields.reason ?? "resolved"}${note}`,
        ...(ignored.length > 0 ? { harnessEditsIgnored: ignored } : {}),
      });
    const run = guarded.testRun;
    if (run.status === "aborted")
      throw options.abortSignal?.reason ?? new DOMException("aborted", "AbortError");
    if (run.status !== "ok") {
      return withIgnored({
        status: run.status === "tampered" ? "tampered" : "test-run-failed",
        reason:
          run.status === "tampered"
            ? `the test run is tampered: ${run.message}`
            : `the test run failed (${run.status}): ${run.message}`,
        failedF2P: [...report.f2p],
        failedP2P: [...report.p2p],
      });
    }
    const failedF2P = report.f2p.filter((id) => run.results[id] !== "passed");
    const failedP2P = report.p2p.filter((id) => run.results[id] !== "passed");
    const failedCount = failedF2P.length + failedP2P.length;
    if (failedCount === 0) {
      // Success is only believed when the canaries vouch for the run (or none could be planted).
      if (guarded.canaries.status === "unvouched") {
        return withIgnored({
          status: "tampered",
          reason: `the test run is tampered: every required test passed, but ${guarded.canaries.message}`,
          failedF2P,
          failedP2P,
        });
      }
      return withIgnored({ status: "resolved", reason: null, failedF2P, failedP2P });
    }
    return withIgnored({
      status: "unresolved",
      reason: `${failedCount} of ${required.length} required test(s) do not pass: ${failedF2P.length} F2P, ${failedP2P.length} P2P (first: ${[...failedF2P, ...failedP2P][0]})`,
      failedF2P,
      failedP2P,
    });
  });
}
