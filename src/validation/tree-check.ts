// The sandbox side of checks 0 and 1: before the bug+weaken run, its sandbox looks at the original tree
// (symlinks, where touched paths lead, which oracle files exist) and applies both diffs in order; the pure
// judges in checks/ decide.
import type { BugArtifact } from "../ports/artifact.js";
import type { SandboxView } from "../ports/sandbox.js";
import { judgeOracleFiles } from "./checks/oracle-files.js";
import {
  checkShapeAgainstTree,
  type DiffName,
  judgeApplied,
  type ShapeSummary,
  shapeEvidence,
  type TreeFacts,
} from "./checks/shape.js";
import type { Evidence, Failure, Verdict } from "./checks/verdict.js";
import { harnessEvidence } from "./harness/verdicts.js";
import { shippedFile } from "./sandbox-work.js";

/**
 * Checks 0 and 1 as far as the tree decides them; `oracleFiles` is null when the shape already failed.
 * `weakenedOriginals` holds the original text of each oracle file the weakening changes (for check 6).
 */
export type TreeCheck =
  | { shape: Failure; oracleFiles: null }
  | {
      shape: { status: "passed"; evidence: Evidence };
      oracleFiles: Verdict;
      weakenedOriginals: { path: string; text: string }[];
    };

/** Looks at the sandbox's current (original) tree: its symlinks, where touched paths lead, which oracle files exist. */
export async function inspectTree(
  sandbox: SandboxView,
  summary: ShapeSummary,
  abortSignal?: AbortSignal,
): Promise<TreeFacts> {
  const lines = [
    ...[...summary.bugPaths, ...summary.weakenFiles].map((path) => `touched\t${path}`),
    ...summary.oracleFiles.map((path) => `oracle\t${path}`),
  ];
  const result = await sandbox.run({
    command: shippedFile("scripts/check-paths.sh"),
    cwd: sandbox.workdir,
    stdin: `${lines.join("\n")}\n`,
    timeoutMs: 120_000,
    maxOutputBytes: 16 * 1024 * 1024,
    abortSignal,
  });
  if (result.status === "aborted") throw abortSignal?.reason ?? new DOMException("aborted", "AbortError");
  if (result.status !== "exited" || result.exitCode !== 0) {
    throw new Error(
      `the path check failed in sandbox ${sandbox.id} (${result.status}): ${result.stderr.trim()}`,
    );
  }
  const facts: TreeFacts = { symlinks: new Map(), escapes: [], missing: [] };
  for (const line of result.stdout.split("\n")) {
    const [kind, path, detail] = line.split("\t");
    if (path === undefined) continue;
    if (kind === "link") facts.symlinks.set(path, detail ?? "");
    if (kind === "escape") facts.escapes.push({ path, resolved: detail ?? "" });
    if (kind === "missing") facts.missing.push(path);
  }
  return facts;
}

/** Checks the sandbox's original tree and leaves it with bug_inject.diff and test_weaken.diff applied. */
export async function checkTree(
  sandbox: SandboxView,
  artifact: BugArtifact,
  summary: ShapeSummary,
  signal: AbortSignal,
): Promise<TreeCheck> {
  const facts = await inspectTree(sandbox, summary, signal);
  const unsafe = checkShapeAgainstTree(artifact, summary, facts);
  if (unsafe) return { shape: { status: "failed", ...unsafe }, oracleFiles: null };
  const weakenedOriginals: { path: string; text: string }[] = [];
  for (const path of summary.weakenFiles)
    if (!facts.missing.includes(path)) {
      const text = await sandbox.readFile(path).then(
        (content) => content.toString("utf8"),
        () => null,
      );
      if (text !== null) weakenedOriginals.push({ path, text });
    }
  const diffs: [DiffName, string][] = [
    ["bug_inject.diff", artifact.bugInjectDiff],
    ["test_weaken.diff", artifact.testWeakenDiff],
  ];
  for (const [name, diff] of diffs) {
    const rejected = judgeApplied(name, await sandbox.applyPatch(diff));
    if (rejected) return { shape: rejected, oracleFiles: null };
  }
  return {
    shape: { status: "passed", evidence: { ...shapeEvidence(summary), ...harnessEvidence(summary) } },
    oracleFiles: judgeOracleFiles(summary, facts.missing),
    weakenedOriginals,
  };
}
