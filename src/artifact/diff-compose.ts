// Composing two sequential diffs (b made against the result of a) into one diff against a's base.
// Files touched by one side only are copied; files touched by both get their hunks composed exactly
// from the lines the hunks carry, or a typed "cannot compose" result when the hunks alone do not
// determine the outcome (callers can then fall back to applying both with real git).
import { formatFileDiff } from "./diff-format.js";
import { type DiffLine, type FileDiff, type Hunk, parseDiff } from "./diff-parse.js";

export type ComposeResult =
  | { status: "ok"; diff: string }
  | { status: "error"; diff: "first" | "second"; line: number; message: string }
  | { status: "cannot-compose"; file: string; reason: string };

class CannotCompose extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function composeDiffs(first: string, second: string): ComposeResult {
  const a = parseDiff(first);
  if (a.status === "error") return { status: "error", diff: "first", line: a.line, message: a.message };
  const b = parseDiff(second);
  if (b.status === "error") return { status: "error", diff: "second", line: b.line, message: b.message };
  try {
    // Files only one side touches keep their exact text; composed files are written from their fields.
    const files = composeFiles(a.files, b.files);
    return {
      status: "ok",
      diff: files.map((file) => (file.raw !== "" ? file.raw : formatFileDiff(file))).join(""),
    };
  } catch (error) {
    if (error instanceof CannotCompose)
      return { status: "cannot-compose", file: error.file, reason: error.reason };
    throw error;
  }
}

function composeFiles(first: FileDiff[], second: FileDiff[]): FileDiff[] {
  const result: FileDiff[] = [];
  const used = new Set<FileDiff>();
  for (const a of first) {
    if (a.change === "copied") {
      const touched = second.find((b) => b.oldPath === a.newPath || b.newPath === a.newPath);
      if (touched)
        throw new CannotCompose(a.newPath!, "the first diff copies the file and the second changes the copy");
      result.push(a);
      continue;
    }
    const follower =
      a.change === "deleted"
        ? second.find((b) => b.change === "added" && b.newPath === a.oldPath)
        : second.find((b) => b.change !== "added" && b.oldPath === a.newPath);
    const clash =
      a.change !== "deleted" && second.find((b) => b.change === "added" && b.newPath === a.newPath);
    if (clash)
      throw new CannotCompose(a.newPath!, "the second diff creates a file the first diff leaves in place");
    if (!follower) {
      result.push(a);
      continue;
    }
    used.add(follower);
    const composed = composePair(a, follower);
    if (composed) result.push(composed);
  }
  for (const b of second) {
    if (used.has(b)) continue;
    const gone = first.find(
      (a) =>
        b.change !== "added" && a.oldPath === b.oldPath && a.newPath !== b.oldPath && a.change !== "copied",
    );
    if (gone)
      throw new CannotCompose(b.oldPath!, "the second diff changes a file the first diff removed or renamed");
    result.push(b);
  }
  return result;
}

function composePair(a: FileDiff, b: FileDiff): FileDiff | null {
  const name = (b.newPath ?? a.oldPath ?? b.oldPath)!;
  if (a.binary || b.binary) throw new CannotCompose(name, "a binary file changed by both diffs");
  const oldPath = a.oldPath;
  const newPath = b.newPath;
  const hunks = composeHunks(name, a.hunks, b.hunks);
  if (oldPath === null && newPath === null) {
    if (hunks.length > 0)
      throw new CannotCompose(name, "the second diff deletes content the first did not create");
    return null;
  }
  const oldMode = a.oldMode ?? b.oldMode;
  const newMode = b.newMode ?? a.newMode;
  let change: FileDiff["change"];
  if (oldPath === null) change = "added";
  else if (newPath === null) change = "deleted";
  else change = oldPath === newPath ? "modified" : "renamed";
  const sameMode = oldMode === newMode || oldMode === null || newMode === null;
  if (change === "modified" && hunks.length === 0 && sameMode) return null;
  const index =
    a.index && b.index
      ? { oldHash: a.index.oldHash, newHash: b.index.newHash, mode: sameMode ? (newMode ?? oldMode) : null }
      : null;
  return {
    oldPath,
    newPath,
    change,
    oldMode,
    newMode,
    similarity: change === "renamed" ? (a.similarity ?? b.similarity) : null,
    index,
    hunks,
    binary: null,
    line: a.line,
    mentions: [...a.mentions, ...b.mentions],
    raw: "",
  };
}

type Line = { text: string; noNewlineAtEnd: boolean };

const sameLine = (left: Line, right: Line) =>
  left.text === right.text && left.noNewlineAtEnd === right.noNewlineAtEnd;

function oldSide(hunk: Hunk): Line[] {
  return hunk.lines.filter((line) => line.kind !== "added");
}

function newSide(hunk: Hunk): Line[] {
  return hunk.lines.filter((line) => line.kind !== "removed");
}

/** 0-based index of the first line of a range given as (1-based start, count); unified diffs give the
 * line before an empty range. */
function zeroBased(start: number, count: number): number {
  return count === 0 ? start : start - 1;
}

interface Span {
  start: number;
  end: number;
  first: Hunk[];
  second: Hunk[];
}

/** Groups hunks of both diffs whose ranges in the intermediate file overlap or touch. */
function clusters(first: Hunk[], second: Hunk[]): Span[] {
  const ranges = [
    ...first.map((hunk) => ({
      hunk,
      from: "first" as const,
      start: zeroBased(hunk.newStart, hunk.newLines),
      length: hunk.newLines,
    })),
    ...second.map((hunk) => ({
      hunk,
      from: "second" as const,
      start: zeroBased(hunk.oldStart, hunk.oldLines),
      length: hunk.oldLines,
    })),
  ].sort((x, y) => x.start - y.start || (x.from === y.from ? 0 : x.from === "first" ? -1 : 1));
  const spans: Span[] = [];
  for (const range of ranges) {
    const end = range.start + range.length;
    const last = spans[spans.length - 1];
    if (last && range.start <= last.end) {
      last.end = Math.max(last.end, end);
      last[range.from].push(range.hunk);
    } else {
      spans.push({
        start: range.start,
        end,
        first: range.from === "first" ? [range.hunk] : [],
        second: range.from === "second" ? [range.hunk] : [],
      });
    }
  }
  return spans;
}

function composeHunks(name: string, first: Hunk[], second: Hunk[]): Hunk[] {
  const hunks: Hunk[] = [];
  let firstDelta = 0; // lines added minus removed by the first diff's hunks before the current span
  let secondDelta = 0;
  for (const span of clusters(first, second)) {
    // The intermediate file's lines in the span, as both diffs see them; they must agree.
    const middle: (Line | undefined)[] = new Array(span.end - span.start);
    const fill = (hunk: Hunk, start: number, lines: Line[], which: string) => {
      lines.forEach((line, offset) => {
        const at = start + offset - span.start;
        const known = middle[at];
        if (known && !sameLine(known, line)) {
          throw new CannotCompose(
            name,
            `the second diff's hunk at diff line ${hunk.line} expects "${line.text}" at line ${start + offset + 1} ` +
              `where the first diff leaves "${known.text}" (${which})`,
          );
        }
        middle[at] = line;
      });
    };
    for (const hunk of span.first)
      fill(hunk, zeroBased(hunk.newStart, hunk.newLines), newSide(hunk), "first diff");
    for (const hunk of span.second)
      fill(hunk, zeroBased(hunk.oldStart, hunk.oldLines), oldSide(hunk), "second diff");
    if (middle.some((line) => line === undefined)) {
      throw new CannotCompose(
        name,
        `the hunks do not cover lines ${span.start + 1}-${span.end} of the intermediate file`,
      );
    }
    const known = middle as Line[];
    const before = walk(
      span,
      known,
      span.first,
      (hunk) => [zeroBased(hunk.newStart, hunk.newLines), hunk.newLines],
      oldSide,
    );
    const after = walk(
      span,
      known,
      span.second,
      (hunk) => [zeroBased(hunk.oldStart, hunk.oldLines), hunk.oldLines],
      newSide,
    );
    const oldStart0 = span.start - firstDelta;
    const newStart0 = span.start + secondDelta;
    for (const hunk of span.first) firstDelta += hunk.newLines - hunk.oldLines;
    for (const hunk of span.second) secondDelta += hunk.newLines - hunk.oldLines;
    if (before.length === after.length && before.every((line, index) => sameLine(line, after[index]!)))
      continue;
    hunks.push(
      makeHunk(before, after, oldStart0, newStart0, span.first[0]?.section ?? span.second[0]?.section ?? ""),
    );
  }
  return hunks;
}

/** Lines of the span with each given hunk's intermediate range replaced by `replacement(hunk)`. */
function walk(
  span: Span,
  middle: Line[],
  hunks: Hunk[],
  range: (hunk: Hunk) => [number, number],
  replacement: (hunk: Hunk) => Line[],
): Line[] {
  const out: Line[] = [];
  let position = span.start;
  for (const hunk of hunks) {
    const [start, length] = range(hunk);
    while (position < start) out.push(middle[position++ - span.start]!);
    out.push(...replacement(hunk));
    position = Math.max(position, start + length);
  }
  while (position < span.end) out.push(middle[position++ - span.start]!);
  return out;
}

function makeHunk(
  before: Line[],
  after: Line[],
  oldStart0: number,
  newStart0: number,
  section: string,
): Hunk {
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && sameLine(before[prefix]!, after[prefix]!))
    prefix++;
  let suffix = 0;
  while (
    suffix < before.length - prefix &&
    suffix < after.length - prefix &&
    sameLine(before[before.length - 1 - suffix]!, after[after.length - 1 - suffix]!)
  ) {
    suffix++;
  }
  const line = (kind: DiffLine["kind"], source: Line): DiffLine => ({
    kind,
    text: source.text,
    noNewlineAtEnd: source.noNewlineAtEnd,
  });
  const lines: DiffLine[] = [
    ...before.slice(0, prefix).map((source) => line("context", source)),
    ...before.slice(prefix, before.length - suffix).map((source) => line("removed", source)),
    ...after.slice(prefix, after.length - suffix).map((source) => line("added", source)),
    ...before.slice(before.length - suffix).map((source) => line("context", source)),
  ];
  return {
    oldStart: before.length === 0 ? oldStart0 : oldStart0 + 1,
    oldLines: before.length,
    newStart: after.length === 0 ? newStart0 : newStart0 + 1,
    newLines: after.length,
    section,
    lines,
    line: 0,
  };
}
