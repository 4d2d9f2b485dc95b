// Human-readable renderings of a validation report and a grade result, for terminals and logs.
import type { GradeResult, ValidationReport } from "../ports/validation.js";

const SHOWN_TESTS = 10;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function listTests(ids: readonly string[]): string {
  if (ids.length === 0) return "-";
  const shown = ids.slice(0, SHOWN_TESTS).join(", ");
  return ids.length > SHOWN_TESTS ? `${shown} … (+${ids.length - SHOWN_TESTS})` : shown;
}

export function formatReport(report: ValidationReport): string {
  const lines: string[] = [];
  lines.push(`artifact   ${report.artifactId}`);
  lines.push(
    `verdict    ${report.verdict}${report.failedCheck ? ` (check "${report.failedCheck}" failed: ${report.reason})` : ""}`,
  );
  lines.push("");
  const width = Math.max(...report.checks.map((check) => check.check.length));
  for (const check of report.checks) {
    const mark = check.verdict === "passed" ? "ok  " : check.verdict === "failed" ? "FAIL" : "-   ";
    lines.push(`  ${mark} ${check.check.padEnd(width)}  ${check.reason ?? ""}`.trimEnd());
  }
  lines.push("");
  lines.push(`F2P (${report.f2p.length})  ${listTests(report.f2p)}`);
  lines.push(`P2P (${report.p2p.length})`);
  if (report.flaky.length > 0) lines.push(`flaky (${report.flaky.length})  ${listTests(report.flaky)}`);
  for (const contribution of report.fileContributions) {
    lines.push(`  ${contribution.file}: restores ${contribution.restoredTests.length} F2P test(s)`);
  }
  lines.push("");
  lines.push("test runs");
  for (const run of report.testRuns) {
    lines.push(
      `  ${run.label.padEnd(28)} ${run.status.padEnd(14)} ${seconds(run.durationMs)}${run.cached ? " (cached)" : ""}`,
    );
  }
  lines.push(`wall time ${seconds(report.wallTimeMs)}, critical path ${seconds(report.criticalPathMs)}`);
  return `${lines.join("\n")}\n`;
}

export function formatGrade(result: GradeResult): string {
  const lines = [`grade      ${result.status}${result.reason ? `: ${result.reason}` : ""}`];
  if (result.failedF2P.length > 0)
    lines.push(`failed F2P (${result.failedF2P.length})  ${listTests(result.failedF2P)}`);
  if (result.failedP2P.length > 0)
    lines.push(`failed P2P (${result.failedP2P.length})  ${listTests(result.failedP2P)}`);
  lines.push(`time       ${seconds(result.durationMs)}`);
  return `${lines.join("\n")}\n`;
}
