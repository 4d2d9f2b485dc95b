// The buggy state every solver and grader starts from: original + bug + weakening (+ a failed patch).
import { InputError } from "../errors.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { Sandbox } from "../ports/sandbox.js";

/** Applies the artifact's diffs in order; a diff that does not apply means the artifact was never valid. */
export async function applyBuggyState(
  sandbox: Sandbox,
  artifact: BugArtifact,
  extraPatch?: string,
): Promise<void> {
  const steps: [string, string][] = [
    ["bug_inject.diff", artifact.bugInjectDiff],
    ["test_weaken.diff", artifact.testWeakenDiff],
  ];
  if (extraPatch && extraPatch.trim() !== "") steps.push(["the extra (failed predicted) patch", extraPatch]);
  for (const [name, diff] of steps) {
    if (diff.trim() === "") continue;
    const applied = await sandbox.applyPatch(diff);
    if (applied.status === "rejected") {
      throw new InputError(
        "artifact-does-not-apply",
        `${name} does not apply to the environment: ${applied.message}`,
        {
          data: { diff: name, file: applied.file, hunk: applied.hunk },
        },
      );
    }
  }
}
