// Consistency prior for repairs: code is usually uniform, so a line that differs from its siblings only
// where a repair would change it (`x ?? 1` among many `y ?? 0`) is a likely bug, and that repair a likely fix.
import { lineEnd, lineStart } from "../strategies/text-edits.js";

const KEYWORDS = new Set([
  "and",
  "or",
  "not",
  "in",
  "is",
  "if",
  "else",
  "elif",
  "return",
  "for",
  "while",
  "def",
  "class",
  "lambda",
  "None",
  "True",
  "False",
  "true",
  "false",
  "null",
  "undefined",
  "const",
  "let",
  "var",
  "function",
  "new",
  "typeof",
  "await",
  "async",
  "yield",
  "this",
  "self",
]);

/** A line with identifiers abstracted away and whitespace normalised: its shape. */
export function lineShape(line: string): string {
  return line
    .trim()
    .replace(/[A-Za-z_$][\w$]*/g, (word) => (KEYWORDS.has(word) ? word : "ID"))
    .replace(/\s+/g, " ");
}

/** Counts of line shapes in a text, so each candidate costs one lookup. */
export function shapeCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const shape = lineShape(line);
    if (shape.length < 4) continue;
    counts.set(shape, (counts.get(shape) ?? 0) + 1);
  }
  return counts;
}

/**
 * How much more common the repaired line's shape is than the current one's in the same file: 0 when the
 * edit spans lines or makes the line no more typical.
 */
export function consistencyGain(
  text: string,
  counts: ReadonlyMap<string, number>,
  edit: { start: number; end: number; replacement: string },
): number {
  const start = lineStart(text, edit.start);
  const end = lineEnd(text, edit.end);
  const before = text.slice(start, end);
  if (before.slice(0, -1).includes("\n") || edit.replacement.includes("\n")) return 0;
  const after = text.slice(start, edit.start) + edit.replacement + text.slice(edit.end, end);
  const current = counts.get(lineShape(before)) ?? 0;
  const repaired = counts.get(lineShape(after)) ?? 0;
  return repaired > current ? Math.min(3, repaired - current) : 0;
}
