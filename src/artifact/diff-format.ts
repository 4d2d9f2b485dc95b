// Writing parsed file diffs back as git-format text (used for reversed and composed diffs).
import type { FileDiff, Hunk } from "./diff-parse.js";
import { quotePath } from "./path-quoting.js";

function side(prefix: "a/" | "b/", path: string): string {
  return quotePath(`${prefix}${path}`);
}

function formatHunk(hunk: Hunk): string {
  const range = (start: number, count: number) => (count === 1 ? `${start}` : `${start},${count}`);
  let out = `@@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@${hunk.section}\n`;
  for (const line of hunk.lines) {
    const prefix = line.kind === "context" ? " " : line.kind === "removed" ? "-" : "+";
    out += `${prefix}${line.text}\n`;
    if (line.noNewlineAtEnd) out += "\\ No newline at end of file\n";
  }
  return out;
}

/** Git-format text for one file diff, built from its fields (not from `raw`). */
export function formatFileDiff(file: FileDiff): string {
  const oldName = file.oldPath ?? file.newPath!;
  const newName = file.newPath ?? file.oldPath!;
  let out = `diff --git ${side("a/", oldName)} ${side("b/", newName)}\n`;
  if (file.change === "added") {
    out += `new file mode ${file.newMode ?? "100644"}\n`;
  } else if (file.change === "deleted") {
    out += `deleted file mode ${file.oldMode ?? "100644"}\n`;
  } else if (file.oldMode !== null && file.newMode !== null && file.oldMode !== file.newMode) {
    out += `old mode ${file.oldMode}\nnew mode ${file.newMode}\n`;
  }
  if (file.change === "renamed" || file.change === "copied") {
    const verb = file.change === "renamed" ? "rename" : "copy";
    if (file.similarity !== null) out += `similarity index ${file.similarity}%\n`;
    out += `${verb} from ${quotePath(oldName)}\n${verb} to ${quotePath(newName)}\n`;
  }
  if (file.index) {
    const sameMode =
      file.index.mode !== null &&
      file.change !== "added" &&
      file.change !== "deleted" &&
      file.oldMode === file.newMode;
    out += `index ${file.index.oldHash}..${file.index.newHash}${sameMode ? ` ${file.index.mode}` : ""}\n`;
  }
  if (file.binary?.kind === "patch") {
    out += "GIT binary patch\n";
    for (const section of [file.binary.patch.forward, file.binary.patch.reverse]) {
      if (section) out += `${section.join("\n")}\n\n`;
    }
    return out;
  }
  if (file.binary?.kind === "marker") {
    return `${out}${file.binary.text}\n`;
  }
  if (file.hunks.length > 0) {
    out += `--- ${file.oldPath === null ? "/dev/null" : side("a/", file.oldPath)}\n`;
    out += `+++ ${file.newPath === null ? "/dev/null" : side("b/", file.newPath)}\n`;
    for (const hunk of file.hunks) out += formatHunk(hunk);
  }
  return out;
}

/** Joins per-file diffs into one diff; each part ends with exactly one newline. */
export function joinDiffs(parts: readonly string[]): string {
  return parts
    .filter((part) => part !== "")
    .map((part) => (part.endsWith("\n") ? part : `${part}\n`))
    .join("");
}
