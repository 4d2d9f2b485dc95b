// The test runs of one artifact besides its baseline, all started at once, each in its own sandbox: bug +
// weakening (whose sandbox first checks the original tree: the rest of checks 0 and 1, so it goes first in
// the queue), the bug alone, and one inverse mutation per file of a multi-file bug.
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment } from "../ports/sandbox.js";
import type { ShapeSummary } from "./checks/shape.js";
import type { StartRun, SuiteRun, UntimedRequest } from "./sandbox-run.js";
import { deferred } from "./sandbox-work.js";
import { checkTree, type TreeCheck } from "./tree-check.js";

export interface ArtifactRuns {
  /** Checks 0 and 1 against the original tree, decided before the bug+weaken run starts its suite. */
  tree: Promise<TreeCheck>;
  /** Null when the tree failed a check, so the suite did not run. */
  bugAndWeaken: Promise<SuiteRun | null>;
  bug: Promise<SuiteRun | null>;
  /** Every bug file but `file` applied; none for a one-file bug, whose inverse is the original. */
  inverses: { file: string; run: Promise<SuiteRun | null> }[];
  /** Settles once every run has, so their sandboxes are destroyed. */
  settled(): Promise<void>;
}

export function startArtifactRuns(
  startRun: StartRun,
  environment: Environment,
  artifact: BugArtifact,
  summary: ShapeSummary,
  abortSignal: AbortSignal,
): ArtifactRuns {
  const tasks: Promise<unknown>[] = [];
  const start = (request: Pick<UntimedRequest, "label" | "patches" | "diffs" | "prepare">) => {
    const run = startRun({ ...request, environment, artifact, abortSignal });
    tasks.push(run.catch(() => {}));
    return run;
  };
  const tree = deferred<TreeCheck>();
  const bugAndWeaken = start({
    label: "bug+weaken",
    patches: [],
    diffs: [artifact.bugInjectDiff, artifact.testWeakenDiff],
    prepare: async (sandbox) => {
      const checked = await checkTree(sandbox, artifact, summary, abortSignal);
      tree.resolve(checked);
      return checked.oracleFiles?.status === "passed";
    },
  });
  bugAndWeaken.catch((error) => tree.reject(error));
  const bug = start({ label: "bug", patches: [artifact.bugInjectDiff], diffs: [artifact.bugInjectDiff] });
  const parts = summary.bugFileDiffs;
  const inverses =
    parts.length > 1
      ? parts.map((reverted) => {
          const patches = parts.filter((part) => part !== reverted).map((part) => part.diff);
          return {
            file: reverted.file,
            run: start({ label: `inverse:${reverted.file}`, patches, diffs: patches }),
          };
        })
      : [];
  return {
    tree: tree.promise,
    bugAndWeaken,
    bug,
    inverses,
    settled: async () => {
      await Promise.allSettled(tasks);
    },
  };
}
