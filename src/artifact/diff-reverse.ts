// Reversing a git diff: applying the result undoes the original (new/deleted files, renames, modes,
// binary patches with their reverse section).
import { formatFileDiff } from "./diff-format.js";
import { type DiffLine, type FileDiff, type Hunk, parseDiff } from "./diff-parse.js";
import type { DiffResult } from "./diff-result.js";

export function reverseDiff(diff: string): DiffResult {
  const parsed = parseDiff(diff);
  if (parsed.status === "error") return parsed;
  let out = "";
  for (const file of parsed.files) {
    const reversed = reverseFileDiff(file);
    if (typeof reversed === "string") return { status: "error", line: file.line, message: reversed };
    out += formatFileDiff(reversed);
  }
  return { status: "ok", diff: out };
}

/** The reverse of one file diff, or a message saying why it has none. */
function reverseFileDiff(file: FileDiff): FileDiff | string {
  const name = file.newPath ?? file.oldPath;
  if (file.change === "copied") {
    return `${name}: a copy cannot be reversed from the diff alone (the copied file's content is not in it)`;
  }
  let binary = file.binary;
  if (binary?.kind === "patch") {
    if (!binary.patch.reverse) return `${name}: the GIT binary patch has no reverse section`;
    binary = { kind: "patch", patch: { forward: binary.patch.reverse, reverse: binary.patch.forward } };
  } else if (binary?.kind === "marker") {
    const from = file.newPath === null ? "/dev/null" : `a/${file.newPath}`;
    const to = file.oldPath === null ? "/dev/null" : `b/${file.oldPath}`;
    binary = { kind: "marker", text: `Binary files ${from} and ${to} differ` };
  }
  return {
    ...file,
    oldPath: file.newPath,
    newPath: file.oldPath,
    change: file.change === "added" ? "deleted" : file.change === "deleted" ? "added" : file.change,
    oldMode: file.newMode,
    newMode: file.oldMode,
    index: file.index && { ...file.index, oldHash: file.index.newHash, newHash: file.index.oldHash },
    hunks: file.hunks.map(reverseHunk),
    binary,
    raw: "",
  };
}

function reverseHunk(hunk: Hunk): Hunk {
  const lines: DiffLine[] = [];
  let removed: DiffLine[] = [];
  let added: DiffLine[] = [];
  const flush = () => {
    lines.push(...removed, ...added);
    removed = [];
    added = [];
  };
  for (const line of hunk.lines) {
    if (line.kind === "context") {
      flush();
      lines.push(line);
    } else if (line.kind === "added") {
      removed.push({ ...line, kind: "removed" });
    } else {
      added.push({ ...line, kind: "added" });
    }
  }
  flush();
  return {
    ...hunk,
    oldStart: hunk.newStart,
    oldLines: hunk.newLines,
    newStart: hunk.oldStart,
    newLines: hunk.oldLines,
    lines,
  };
}
