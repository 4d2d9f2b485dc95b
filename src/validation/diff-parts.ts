// A git diff cut into its per-file parts (src/artifact's splitDiffByFile), with an error as one message.
import { type DiffPart, splitDiffByFile } from "../artifact/index.js";

export type DiffParts = { status: "ok"; parts: DiffPart[] } | { status: "error"; message: string };

export function diffParts(diff: string): DiffParts {
  if (diff.trim() === "") return { status: "ok", parts: [] };
  const split = splitDiffByFile(diff);
  if (split.status === "error") return { status: "error", message: `line ${split.line}: ${split.message}` };
  return { status: "ok", parts: split.files };
}
