// Second-order bugs (DESIGN §4): a failed predicted patch on top of the buggy state becomes a new bug,
// re-expressed as one diff against the original, restricted to code (non-oracle) files. Order stops at 2.
import { artifactId } from "../artifact/index.js";
import { createLogger } from "../log.js";
import type { BugArtifact } from "../ports/artifact.js";
import { diffParts } from "./diff-parts.js";
import type { SecondOrderOptions } from "./options.js";
import { withSandbox } from "./sandbox-work.js";

const log = createLogger("validation.second-order");

export async function makeSecondOrderArtifact(options: SecondOrderOptions): Promise<BugArtifact | null> {
  const { parent, failedPatch } = options;
  if (parent.meta.order >= 2) return null;
  const oracle = new Set(parent.testFiles);
  // Changes to oracle files are discarded at grading anyway, so they are no part of the new bug.
  const parts = diffParts(failedPatch);
  if (parts.status === "error") {
    log.info("failed patch cannot be read", { parent: artifactId(parent), reason: parts.message });
    return null;
  }
  const codeParts = parts.parts.filter((part) => !part.paths.some((file) => oracle.has(file)));
  if (codeParts.length === 0) return null;

  const bugInjectDiff = await withSandbox(
    options.sandboxes,
    options.environment,
    "second-order",
    async (sandbox) => {
      // The sandbox's starting state is the original, so diff() is original → bug + code part of the patch.
      // The weakening touches only oracle files, which the restricted patch never touches: it is not needed.
      const bug = await sandbox.applyPatch(parent.bugInjectDiff);
      if (bug.status === "rejected") {
        log.warn("parent bug does not apply", { parent: artifactId(parent), reason: bug.message });
        return null;
      }
      const patch = await sandbox.applyPatch(codeParts.map((part) => part.diff).join(""));
      if (patch.status === "rejected") {
        log.info("failed patch does not apply to the buggy state", {
          parent: artifactId(parent),
          reason: patch.message,
        });
        return null;
      }
      return sandbox.diff();
    },
  );
  if (bugInjectDiff === null || bugInjectDiff.trim() === "") return null;
  if (bugInjectDiff === parent.bugInjectDiff) return null;
  return {
    testScript: parent.testScript,
    testFiles: [...parent.testFiles],
    testParser: parent.testParser,
    bugInjectDiff,
    testWeakenDiff: parent.testWeakenDiff,
    meta: {
      ...parent.meta,
      order: 2,
      parentId: artifactId(parent),
      createdAt: options.createdAt ?? new Date().toISOString(),
    },
  };
}
