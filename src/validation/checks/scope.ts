// Check 4, the scope: bug_inject.diff changes at least `minChangedFiles` files.
import type { Verdict } from "./verdict.js";

export function judgeScope(bugFiles: readonly string[], minChangedFiles: number): Verdict {
  const evidence = { changedFiles: bugFiles, minChangedFiles };
  if (bugFiles.length >= minChangedFiles) return { status: "passed", evidence };
  return {
    status: "failed",
    reason: `bug_inject.diff changes ${bugFiles.length} file(s); at least ${minChangedFiles} are required`,
    evidence,
  };
}
