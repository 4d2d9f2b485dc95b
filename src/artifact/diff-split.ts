// Splitting a diff into its per-file parts (exact text kept) and listing the paths a diff touches.
import { type FileDiff, filePaths, parseDiff } from "./diff-parse.js";

/** One file's piece of a git diff. */
export interface DiffPart {
  /** The file's path after the change (before it, for a deleted file). */
  path: string;
  /** Every path the part touches (both names of a rename or copy). */
  paths: string[];
  change: FileDiff["change"];
  /** The part's exact text; joining all parts gives the diff back (minus text between files). */
  diff: string;
}

export type SplitDiffResult =
  | { status: "ok"; files: DiffPart[] }
  | { status: "error"; line: number; message: string };

export function splitDiffByFile(diff: string): SplitDiffResult {
  const parsed = parseDiff(diff);
  if (parsed.status === "error") return parsed;
  return {
    status: "ok",
    files: parsed.files.map((file) => ({
      path: (file.newPath ?? file.oldPath)!,
      paths: filePaths(file),
      change: file.change,
      diff: file.raw,
    })),
  };
}

export type DiffFilesResult =
  | { status: "ok"; files: string[] }
  | { status: "error"; line: number; message: string };

/** The repository paths a diff touches, in order of appearance, without duplicates. */
export function diffFiles(diff: string): DiffFilesResult {
  const parsed = parseDiff(diff);
  if (parsed.status === "error") return parsed;
  const files: string[] = [];
  for (const file of parsed.files) {
    for (const path of filePaths(file)) if (!files.includes(path)) files.push(path);
  }
  return { status: "ok", files };
}
