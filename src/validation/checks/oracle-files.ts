// Check 1, the oracle files: every path in test_files.txt exists in the original tree (that it covers every
// file the weakening touches is part of the shape check's safety rules).
import type { ShapeSummary } from "./shape.js";
import { listIds, type Verdict } from "./verdict.js";

/** `missing`: oracle files that are not regular files in the original tree. */
export function judgeOracleFiles(summary: ShapeSummary, missing: readonly string[]): Verdict {
  if (missing.length > 0) {
    return {
      status: "failed",
      reason: `test_files.txt lists file(s) that do not exist in the original repository: ${listIds(missing)}`,
      evidence: { missing },
    };
  }
  return {
    status: "passed",
    evidence: { oracleFiles: summary.oracleFiles, weakenFiles: summary.weakenFiles },
  };
}
