// Check 0, the shape: files present, size caps, diffs parse, paths safe, each diff touches only what its role
// allows (src/artifact's safety rules); first statically, then against the real tree's symlinks, and both
// diffs must apply in order. Pure: the tree's facts come from tree-check.ts.
import { checkArtifactSafety, type DiffViolation, type Hunk, parseDiff } from "../../artifact/index.js";
import type { BugArtifact } from "../../ports/artifact.js";
import type { ApplyResult } from "../../ports/sandbox.js";
import { diffParts } from "../diff-parts.js";
import type { Evidence, Failure } from "./verdict.js";

export interface ShapeSummary {
  /** test_files.txt without blank lines. */
  oracleFiles: string[];
  /** Files the bug changes, one per file part of the diff (a rename counts once, under its new name). */
  bugFiles: string[];
  /** Every path the bug touches (old and new side of renames), for the path checks. */
  bugPaths: string[];
  /** The bug diff cut per file, for inverse mutations. */
  bugFileDiffs: { file: string; diff: string }[];
  weakenFiles: string[];
  /** The weakening's hunks per file (the file's path before the change), for the tests they edit. */
  weakenFileDiffs: { file: string; hunks: Hunk[] }[];
}

export interface ShapeFailure {
  reason: string;
  evidence: Record<string, unknown>;
}

export type ShapeOutcome =
  | { status: "passed"; summary: ShapeSummary }
  | { status: "failed"; failure: ShapeFailure };

function fail(reason: string, evidence: Record<string, unknown> = {}): ShapeOutcome {
  return { status: "failed", failure: { reason, evidence } };
}

export function violationsFailure(violations: readonly DiffViolation[]): ShapeFailure {
  const [first] = violations;
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more problem(s))` : "";
  return {
    reason: `${first?.message ?? "the artifact is unsafe"}${more}`,
    evidence: {
      violations: violations.map(({ rule, artifactFile, line, path }) => ({
        rule,
        artifactFile,
        line,
        path,
      })),
    },
  };
}

/** Everything of check 0 that needs no repository. */
export function checkShape(artifact: BugArtifact): ShapeOutcome {
  const oracleFiles = artifact.testFiles.map((line) => line.trim()).filter((line) => line !== "");
  if (artifact.testScript.trim() === "") return fail("test_script.sh is empty");
  if (artifact.testParser.trim() === "") return fail("test_parser.py is empty");
  if (oracleFiles.length === 0) return fail("test_files.txt lists no file");
  if (artifact.bugInjectDiff.trim() === "") return fail("bug_inject.diff is empty");
  if (artifact.testWeakenDiff.trim() === "") return fail("test_weaken.diff is empty");
  const safety = checkArtifactSafety({ ...artifact, testFiles: oracleFiles });
  if (safety.status === "unsafe") return { status: "failed", failure: violationsFailure(safety.violations) };
  const bug = diffParts(artifact.bugInjectDiff);
  if (bug.status === "error") return fail(`bug_inject.diff cannot be read: ${bug.message}`);
  const weaken = parseDiff(artifact.testWeakenDiff);
  if (weaken.status === "error")
    return fail(`test_weaken.diff cannot be read: line ${weaken.line}: ${weaken.message}`);
  return {
    status: "passed",
    summary: {
      oracleFiles,
      bugFiles: bug.parts.map((part) => part.path),
      bugPaths: safety.bugFiles,
      bugFileDiffs: bug.parts.map((part) => ({ file: part.path, diff: part.diff })),
      weakenFiles: safety.weakenFiles,
      weakenFileDiffs: weaken.files.flatMap((file) => {
        const path = file.oldPath ?? file.newPath;
        return path === null ? [] : [{ file: path, hunks: file.hunks }];
      }),
    },
  };
}

export interface TreeFacts {
  /** Symlinks of the original tree: repository path → stored target. */
  symlinks: Map<string, string>;
  /** Touched or oracle paths that resolve outside the repository. */
  escapes: { path: string; resolved: string }[];
  /** Oracle files that are not regular files in the original tree. */
  missing: string[];
}

/** The shape problems the real tree reveals: diffs through the tree's symlinks, paths resolving outside. */
export function checkShapeAgainstTree(
  artifact: BugArtifact,
  summary: ShapeSummary,
  facts: TreeFacts,
): ShapeFailure | null {
  const safety = checkArtifactSafety(
    { ...artifact, testFiles: summary.oracleFiles },
    { symlinks: facts.symlinks },
  );
  if (safety.status === "unsafe") return violationsFailure(safety.violations);
  const [first] = facts.escapes;
  if (first) {
    const more = facts.escapes.length > 1 ? ` (and ${facts.escapes.length - 1} more)` : "";
    return {
      reason: `${first.path} resolves to ${first.resolved} through a symlink, outside the repository${more}`,
      evidence: { escapes: facts.escapes },
    };
  }
  return null;
}

export type DiffName = "bug_inject.diff" | "test_weaken.diff";

/** A diff that does not apply (the weakening on top of the bug) fails the shape check. */
export function judgeApplied(name: DiffName, applied: ApplyResult): Failure | null {
  if (applied.status === "applied") return null;
  return {
    status: "failed",
    reason: `${name} does not apply${name === "test_weaken.diff" ? " after bug_inject.diff" : ""}: ${applied.message}`,
    evidence: { diff: name, file: applied.file, hunk: applied.hunk },
  };
}

/** The evidence of a passed shape check (the harness edits the runs ignore are added by the caller). */
export function shapeEvidence(summary: ShapeSummary): Evidence {
  return {
    bugFiles: summary.bugFiles,
    weakenFiles: summary.weakenFiles,
    applies: "bug_inject.diff then test_weaken.diff apply cleanly",
  };
}
