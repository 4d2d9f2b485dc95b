// A candidate bug before it is screened: whole-file rewrites (removal, direct) or a patch (history).
import type { Strategy } from "../../ports/artifact.js";
import { applyTextEdits, type TextEdit } from "./text-edits.js";

/** Edits of one file; the new text is computed only when the candidate is tried. */
interface FileChange {
  file: string;
  original: string;
  edits: Omit<TextEdit, "file">[];
}

export function changedText(change: FileChange): string {
  return applyTextEdits(change.original, change.edits);
}

export type CandidateChange =
  | { kind: "files"; files: FileChange[] }
  | { kind: "patch"; diff: string; files: string[] };

export interface Candidate {
  strategy: Strategy;
  /** Human-readable, e.g. "stub body of toolz/itertoolz.py:frequencies". */
  description: string;
  change: CandidateChange;
  /** Operators used, for statistics ("stub-raise", "comparison-flip", "revert-commit", …). */
  operators: string[];
  /** The one function a single-function candidate changes: its name, length, and whether tests name it. */
  site?: CandidateSite;
}

export interface CandidateSite {
  name: string;
  lines: number;
  /** The tests name the function (or its class), not only its module. */
  named: boolean;
}

/** The site of a candidate inside `fn`, whose exercise weight is 2 when the tests name it. */
export function siteOf(
  fn: { name: string; span: { startLine: number; endLine: number } },
  weight: number,
): CandidateSite {
  return { name: fn.name, lines: fn.span.endLine - fn.span.startLine + 1, named: weight >= 2 };
}

export function candidateFiles(candidate: Candidate): string[] {
  return candidate.change.kind === "files"
    ? candidate.change.files.map((change) => change.file)
    : candidate.change.files;
}

/** Two whole-file candidates on different files as one multi-file candidate. */
export function combineCandidates(first: Candidate, second: Candidate): Candidate | null {
  if (first.change.kind !== "files" || second.change.kind !== "files") return null;
  const files = [...first.change.files, ...second.change.files];
  if (new Set(files.map((change) => change.file)).size !== files.length) return null;
  return {
    strategy: first.strategy,
    description: `${first.description}; ${second.description}`,
    change: { kind: "files", files },
    operators: [...first.operators, ...second.operators],
  };
}
