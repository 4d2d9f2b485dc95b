// A diff's hunks as editor str_replace edits: what a demonstration writes with the editor tool instead of a
// patch. Each edit is the hunk's changed lines, widened by its context lines until the old text is unique.

import type { DiffLine, Hunk } from "../../artifact/index.js";
import { parseDiff } from "../../artifact/index.js";

export interface Replacement {
  path: string;
  oldText: string;
  newText: string;
}

function occurrences(text: string, part: string): number {
  let count = 0;
  for (let at = text.indexOf(part); at !== -1; at = text.indexOf(part, at + 1)) count++;
  return count;
}

const join = (lines: readonly DiffLine[]) => lines.map((line) => line.text);

/** Lines as a replacement; removing whole lines takes their line ends, so no empty line is left behind. */
function candidate(oldLines: string[], newLines: string[]): { oldText: string; newText: string } | null {
  if (oldLines.length === 0) return null;
  const oldText = oldLines.join("\n");
  const newText = newLines.join("\n");
  if (newLines.length === 0) return { oldText: `${oldText}\n`, newText: "" };
  return { oldText, newText };
}

/** One hunk as the smallest unique replacement in `text`, or null when no context makes it unique. */
function hunkReplacement(text: string, hunk: Hunk): { oldText: string; newText: string } | null {
  const { lines } = hunk;
  const first = lines.findIndex((line) => line.kind !== "context");
  if (first === -1) return null;
  let last = lines.length - 1;
  while (lines[last]!.kind === "context") last--;
  const core = lines.slice(first, last + 1);
  const oldCore = join(core.filter((line) => line.kind !== "added"));
  const newCore = join(core.filter((line) => line.kind !== "removed"));
  const before = join(lines.slice(0, first));
  const after = join(lines.slice(last + 1));
  // The fewest context lines that make the old text unique, those above preferred.
  for (let total = 0; total <= before.length + after.length; total++) {
    for (let above = Math.min(total, before.length); above >= Math.max(0, total - after.length); above--) {
      const head = before.slice(before.length - above);
      const tail = after.slice(0, total - above);
      const replacement = candidate([...head, ...oldCore, ...tail], [...head, ...newCore, ...tail]);
      if (replacement && occurrences(text, replacement.oldText) === 1) return replacement;
    }
  }
  return null;
}

/**
 * The edits that turn each file's current text (`texts`, by repository path) into what the diff makes of it,
 * in order. Null when the diff cannot be written as edits of existing text files (a file added, deleted,
 * renamed or binary, a text not given, a hunk with no unique place).
 */
export function replacementsOf(diff: string, texts: ReadonlyMap<string, string>): Replacement[] | null {
  const parsed = parseDiff(diff);
  if (parsed.status === "error") return null;
  const edits: Replacement[] = [];
  for (const file of parsed.files) {
    if (file.change !== "modified" || file.binary || file.newPath === null) return null;
    let text = texts.get(file.newPath);
    if (text === undefined) return null;
    for (const hunk of file.hunks) {
      const replacement = hunkReplacement(text, hunk);
      if (!replacement) return null;
      const at = text.indexOf(replacement.oldText);
      text = text.slice(0, at) + replacement.newText + text.slice(at + replacement.oldText.length);
      edits.push({ path: file.newPath, ...replacement });
    }
  }
  return edits;
}

/** The files a diff changes, with the first line of each one's first hunk (in the old text) and its section. */
export function changedPlaces(
  diff: string,
): { path: string; line: number; lines: number; section: string }[] {
  const parsed = parseDiff(diff);
  if (parsed.status === "error") return [];
  return parsed.files.flatMap((file) => {
    const hunk = file.hunks[0];
    const path = file.newPath ?? file.oldPath;
    return hunk && path ? [{ path, line: hunk.oldStart, lines: hunk.oldLines, section: hunk.section }] : [];
  });
}
