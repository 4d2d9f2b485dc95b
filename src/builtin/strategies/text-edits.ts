// Text edits over exact source ranges (from the code model), applied right to left so offsets stay valid.
import { InputError } from "../../errors.js";

export interface TextEdit {
  /** Repository-relative path of the file the edit changes. */
  file: string;
  /** Offsets into the file's text (JavaScript string indexes, as the code model reports them). */
  start: number;
  end: number;
  replacement: string;
}

/** Applies edits of one file; edits must not overlap. */
export function applyTextEdits(text: string, edits: readonly Omit<TextEdit, "file">[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let result = text;
  let limit = Number.POSITIVE_INFINITY;
  for (const edit of sorted) {
    if (edit.start < 0 || edit.end > text.length || edit.start > edit.end) {
      throw new InputError(
        "edit-out-of-range",
        `text edit ${edit.start}..${edit.end} is outside 0..${text.length}`,
      );
    }
    if (edit.end > limit) {
      throw new InputError("edit-overlap", `text edits overlap at offset ${edit.end}`);
    }
    result = result.slice(0, edit.start) + edit.replacement + result.slice(edit.end);
    limit = edit.start;
  }
  return result;
}

/** Start of the line holding `offset`. */
export function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** Offset just past the newline ending the line holding `offset` (or the text's end). */
export function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf("\n", offset);
  return newline < 0 ? text.length : newline + 1;
}

/** The whitespace that indents the line holding `offset`. */
export function indentationAt(text: string, offset: number): string {
  const start = lineStart(text, offset);
  return /^[ \t]*/.exec(text.slice(start))?.[0] ?? "";
}
