// Grading (DESIGN §4): buggy state + predicted patch, oracle tests and harness restored to the original, one
// guarded test run with canaries; resolved iff every F2P and P2P test passes and the run's canaries vouch for
// it. A patch that does not apply is a result, not an error; a run that lies is `tampered`.
import { InputError } from "../errors.js";
import { createLogger } from "../log.js";
import type { Sandbox } from "../ports/sandbox.js";
import type { GradeResult, ValidationReport } from "../ports/validation.js";
import { applyBuggyState } from "./buggy-state.js";
import { type GuardedRun, prepareGuard, runGuarded, touchedPaths } from "./harness/guarded-run.js";
import type { GradeOptions } from "./options.js";
import { readOracleFiles, restoreOracleFiles } from "./oracle-files.js";
import { DEFAULT_RUN_TIMEOUT, timeoutFromBaseline } from "./run-timeout.js";
import { withSandbox } from "./sandbox-work.js";
import { DEFAULT_THRESHOLDS } from "./thresholds.js";

const log = createLogger("validation.grade");

type Verdict = Omit<GradeResult, "resolved" | "durationMs">;

/** 5 × the slowest baseline run of the report + 30 s, within the default limit; a hanging patch fails fast. */
export function timeoutFromReport(report: GradeOptions["report"]): number {
  const baseline = report.testRuns.filter((run) => run.label.startsWith("baseline") && run.status === "ok");
  return timeoutFromBaseline(
    baseline.map((run) => run.durationMs),
    DEFAULT_RUN_TIMEOUT,
    DEFAULT_THRESHOLDS.testTimeoutMs,
  );
}

export async function grade(options: GradeOptions): Promise<GradeResult> {
  const { report } = options;
  if (report.verdict !== "valid" || report.f2p.length === 0) {
    throw new InputError(
      "grade-needs-valid-report",
      `grading needs the report of a valid artifact with F2P tests; artifact ${report.artifactId} is ${report.verdict}${report.failedCheck ? ` (failed check ${report.failedCheck})` : ""}`,
    );
  }
  const startedAt = performance.now();
  // Timed inside the sandbox's lifetime: its destruction is no part of grading.
  return withSandbox(options.sandboxes, options.environment, "grade", async (sandbox) => {
    const verdict = await gradeIn(sandbox, options);
    const durationMs = Math.round(performance.now() - startedAt);
    log.info("patch-graded", { artifact: report.artifactId, status: verdict.status, durationMs });
    return { ...verdict, resolved: verdict.status === "resolved", durationMs };
  });
}

/** The grading run in a fresh sandbox of the original. */
async function gradeIn(sandbox: Sandbox, options: GradeOptions): Promise<Verdict> {
  const { artifact, report } = options;
  const originals = await readOracleFiles(sandbox, artifact.testFiles);
  const guard = await prepareGuard(sandbox, {
    testFiles: artifact.testFiles,
    diffs: [artifact.bugInjectDiff, artifact.testWeakenDiff, options.extraPatch ?? "", options.patch],
    integrity: options.integrity,
    known: originals,
    twins: report.f2p,
  });
  await applyBuggyState(sandbox, artifact, options.extraPatch);
  if (options.patch.trim() !== "") {
    const applied = await sandbox.applyPatch(options.patch);
    if (applied.status === "rejected") {
      return {
        status: "patch-rejected",
        reason: `the predicted patch does not apply to the buggy state: ${applied.message}`,
        failedF2P: [...report.f2p],
        failedP2P: [...report.p2p],
      };
    }
  }
  await restoreOracleFiles(sandbox, originals);
  const guarded = await runGuarded(sandbox, guard, {
    testScript: artifact.testScript,
    testParser: artifact.testParser,
    timeoutMs: options.timeoutMs ?? timeoutFromReport(report),
    abortSignal: options.abortSignal,
  });
  if (guarded.testRun.status === "aborted")
    throw options.abortSignal?.reason ?? new DOMException("aborted", "AbortError");
  return withIgnoredEdits(judgeGradedRun(report, guarded), guarded, options.patch);
}

/** Resolved iff every F2P and P2P test passed and the canaries vouch for the run (or none could be planted). */
function judgeGradedRun(report: ValidationReport, guarded: GuardedRun): Verdict {
  const run = guarded.testRun;
  if (run.status !== "ok") {
    return {
      status: run.status === "tampered" ? "tampered" : "test-run-failed",
      reason:
        run.status === "tampered"
          ? `the test run is tampered: ${run.message}`
          : `the test run failed (${run.status}): ${run.message}`,
      failedF2P: [...report.f2p],
      failedP2P: [...report.p2p],
    };
  }
  const failedF2P = report.f2p.filter((id) => run.results[id] !== "passed");
  const failedP2P = report.p2p.filter((id) => run.results[id] !== "passed");
  const failedCount = failedF2P.length + failedP2P.length;
  if (failedCount > 0) {
    const required = report.f2p.length + report.p2p.length;
    return {
      status: "unresolved",
      reason: `${failedCount} of ${required} required test(s) do not pass: ${failedF2P.length} F2P, ${failedP2P.length} P2P (first: ${[...failedF2P, ...failedP2P][0]})`,
      failedF2P,
      failedP2P,
    };
  }
  if (guarded.canaries.status === "unvouched") {
    return {
      status: "tampered",
      reason: `the test run is tampered: every required test passed, but ${guarded.canaries.message}`,
      failedF2P,
      failedP2P,
    };
  }
  return { status: "resolved", reason: null, failedF2P, failedP2P };
}

/** Only the predicted patch's own harness edits are the solver's; the artifact's were judged in validation. */
function withIgnoredEdits(verdict: Verdict, guarded: GuardedRun, patch: string): Verdict {
  const patchFiles = new Set(touchedPaths([patch]));
  const ignored = guarded.harnessEditsIgnored.filter((entry) =>
    patchFiles.has(entry.replace(/ \(.*\)$/, "")),
  );
  if (ignored.length === 0) return verdict;
  const note = ` (harness edits ignored: ${ignored.join(", ")})`;
  return { ...verdict, reason: `${verdict.reason ?? "resolved"}${note}`, harnessEditsIgnored: ignored };
}
