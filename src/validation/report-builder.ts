// A validation report as the checks fill it: verdicts in check order, test-run records, the critical path,
// and the test sets known when it stops. Finishing logs `artifact-validated`.
import { createLogger } from "../log.js";
import type { CheckName, CheckResult, TestRunRecord, ValidationReport } from "../ports/validation.js";
import { CHECK_ORDER } from "../ports/validation.js";
import type { Evidence, Failure } from "./checks/verdict.js";

const log = createLogger("validation");

export type ReportSets = Partial<Pick<ValidationReport, "f2p" | "p2p" | "flaky" | "fileContributions">>;

/** The first check that failed, with its verdict. */
export interface FailedCheck {
  check: CheckName;
  failure: Failure;
}

export class ReportBuilder {
  /** The sets found so far; a report carries those known when it stops. */
  readonly sets: ReportSets = {};
  private readonly checks = new Map<CheckName, CheckResult>();
  private readonly records: TestRunRecord[] = [];
  private criticalPathMs = 0;
  private readonly startedAt = performance.now();

  constructor(private readonly artifactId: string) {}

  pass(check: CheckName, evidence: Evidence): void {
    this.checks.set(check, { check, verdict: "passed", reason: null, evidence });
  }

  /** A test run behind the report. */
  record(record: TestRunRecord): void {
    this.records.push(record);
  }

  /** A chain of dependent runs this validation waited for: the longest is the critical path. */
  waitedFor(chainMs: number): void {
    this.criticalPathMs = Math.max(this.criticalPathMs, chainMs);
  }

  /** The report: invalid at `failed`, or valid when no check failed. */
  finish(failed: FailedCheck | null): ValidationReport {
    if (failed) {
      const { check, failure } = failed;
      this.checks.set(check, {
        check,
        verdict: "failed",
        reason: failure.reason,
        evidence: failure.evidence,
      });
    }
    const report: ValidationReport = {
      artifactId: this.artifactId,
      verdict: failed ? "invalid" : "valid",
      failedCheck: failed?.check ?? null,
      reason: failed?.failure.reason ?? null,
      checks: CHECK_ORDER.map(
        (check) => this.checks.get(check) ?? { check, verdict: "not-run", reason: null, evidence: {} },
      ),
      f2p: this.sets.f2p ?? [],
      p2p: this.sets.p2p ?? [],
      flaky: this.sets.flaky ?? [],
      fileContributions: this.sets.fileContributions ?? [],
      testRuns: this.records,
      wallTimeMs: Math.round(performance.now() - this.startedAt),
      criticalPathMs: Math.round(this.criticalPathMs),
    };
    log.info("artifact-validated", {
      artifact: this.artifactId,
      verdict: report.verdict,
      failedCheck: report.failedCheck ?? undefined,
      runs: this.records.filter((record) => !record.cached).length,
      wallTimeMs: report.wallTimeMs,
    });
    return report;
  }
}
