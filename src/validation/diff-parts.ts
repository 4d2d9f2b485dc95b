// A git diff cut into its per-file parts (src/artifact's splitDiffByFile), each with the paths it touches.
import { splitDiffByFile } from "../artifact/index.js";

export interface DiffPart {
  /** The file's path after the change (before it, for a deleted file). */
  file: string;
  /** Paths the part touches: both names of a rename or copy. */
  files: string[];
  /** The part's exact text. */
  diff: string;
}

export type DiffParts = { status: "ok"; parts: DiffPart[] } | { status: "error"; message: string };

export function diffParts(diff: string): DiffParts {
  if (diff.trim() === "") return { status: "ok", parts: [] };
  const split = splitDiffByFile(diff);
  if (split.status === "error") return { status: "error", message: `line ${split.line}: ${split.message}` };
  return {
    status: "ok",
    parts: split.files.map((section) => ({ file: section.path, files: section.paths, diff: section.diff })),
  };
}
