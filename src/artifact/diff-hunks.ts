// The content part of a file's diff: text hunks with their line counts checked, and GIT binary patches.
// A malformed line throws DiffSyntaxError, which parseDiff turns into a result naming the line.
import type { BinaryPatch, DiffLineKind, FileDiff, Hunk } from "./diff-types.js";

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/;

export class DiffSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseHunks(lines: string[], start: number, diff: FileDiff): number {
  let index = start;
  while (index < lines.length && lines[index]!.startsWith("@@")) {
    const headerLine = index + 1;
    const match = HUNK_HEADER.exec(lines[index]!);
    if (!match) throw new DiffSyntaxError(headerLine, `malformed hunk header "${lines[index]}"`);
    const hunk: Hunk = {
      oldStart: Number(match[1]),
      oldLines: match[2] === undefined ? 1 : Number(match[2]),
      newStart: Number(match[3]),
      newLines: match[4] === undefined ? 1 : Number(match[4]),
      section: match[5] ?? "",
      lines: [],
      line: headerLine,
    };
    index += 1;
    let oldLeft = hunk.oldLines;
    let newLeft = hunk.newLines;
    while (oldLeft > 0 || newLeft > 0) {
      const line = lines[index];
      // Counts decide what belongs to the hunk ("--- x" may be a removed "-- x"); only lines that can
      // never be hunk lines end it early.
      if (line === undefined || line.startsWith("diff --git ") || line.startsWith("@@ ")) {
        throw new DiffSyntaxError(
          line === undefined ? headerLine : index + 1,
          `hunk at line ${headerLine} ends early: ${oldLeft} old and ${newLeft} new lines missing`,
        );
      }
      const prefix = line[0];
      if (prefix === "\\") {
        markNoNewline(hunk, index + 1);
        index += 1;
        continue;
      }
      // Some tools strip the space of an empty context line.
      const kind: DiffLineKind | null =
        prefix === " " || line === ""
          ? "context"
          : prefix === "-"
            ? "removed"
            : prefix === "+"
              ? "added"
              : null;
      if (kind === null) {
        throw new DiffSyntaxError(
          index + 1,
          `unexpected line in hunk starting at line ${headerLine}: "${line}"`,
        );
      }
      if ((kind !== "added" && oldLeft === 0) || (kind !== "removed" && newLeft === 0)) {
        throw new DiffSyntaxError(
          index + 1,
          `hunk at line ${headerLine} has more lines than its header says (-${hunk.oldLines} +${hunk.newLines})`,
        );
      }
      if (kind !== "added") oldLeft -= 1;
      if (kind !== "removed") newLeft -= 1;
      hunk.lines.push({ kind, text: line.slice(1), noNewlineAtEnd: false });
      index += 1;
    }
    if (lines[index]?.startsWith("\\")) {
      markNoNewline(hunk, index + 1);
      index += 1;
    }
    diff.hunks.push(hunk);
  }
  return index;
}

function markNoNewline(hunk: Hunk, lineNumber: number): void {
  const last = hunk.lines[hunk.lines.length - 1];
  if (!last)
    throw new DiffSyntaxError(lineNumber, `"\\ No newline at end of file" before any line of the hunk`);
  last.noNewlineAtEnd = true;
}

export function parseBinaryPatch(lines: string[], start: number): { patch: BinaryPatch; next: number } {
  let index = start;
  const readSection = (): string[] | null => {
    const head = lines[index];
    if (head === undefined || !/^(literal|delta) \d+$/.test(head)) return null;
    const section = [head];
    index += 1;
    while (index < lines.length && lines[index] !== "") {
      if (!/^[A-Za-z][0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]+$/.test(lines[index]!)) {
        throw new DiffSyntaxError(index + 1, `malformed base85 line in GIT binary patch`);
      }
      section.push(lines[index]!);
      index += 1;
    }
    if (index < lines.length) index += 1; // the blank line that ends the section
    return section;
  };
  const forward = readSection();
  if (!forward)
    throw new DiffSyntaxError(start + 1, `"GIT binary patch" must be followed by "literal N" or "delta N"`);
  const reverse = readSection();
  return { patch: { forward, reverse }, next: index };
}
