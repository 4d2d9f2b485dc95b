// Turns tree-sitter nodes into plain spans (string offsets, 1-based lines) that outlive the parse tree.
// Lines and texts come from the source string itself: asking tree-sitter costs a call into wasm each.
import type { SyntaxNode, SyntaxTree } from "./grammars.js";
import type { SourceSpan } from "./types.js";

interface SourceLines {
  text: string;
  /** Offsets at which lines 2, 3, … start. */
  lineStarts: number[];
}

const sources = new WeakMap<SyntaxTree, SourceLines>();

/** Remembers the text a tree was parsed from, so that spans of its nodes are computed without wasm calls. */
export function rememberSource(tree: SyntaxTree, text: string): void {
  const lineStarts: number[] = [];
  for (let index = text.indexOf("\n"); index >= 0; index = text.indexOf("\n", index + 1))
    lineStarts.push(index + 1);
  sources.set(tree, { text, lineStarts });
}

/** 1-based line of an offset: one more than the number of line starts at or before it. */
function lineAt(lines: SourceLines, offset: number): number {
  let low = 0;
  let high = lines.lineStarts.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (lines.lineStarts[middle]! <= offset) low = middle + 1;
    else high = middle;
  }
  return low + 1;
}

export function spanOf(node: SyntaxNode): SourceSpan {
  return spanBetween(node, node);
}

/** The span from the start of `first` to the end of `last` (e.g. decorators through a function's end). */
export function spanBetween(first: SyntaxNode, last: SyntaxNode): SourceSpan {
  const start = first.startIndex;
  const end = last.endIndex;
  const lines = sources.get(first.tree);
  if (!lines) {
    return {
      start,
      end,
      startLine: first.startPosition.row + 1,
      endLine: last.endPosition.row + 1,
      text: first.tree.rootNode.text.slice(start, end),
    };
  }
  return {
    start,
    end,
    startLine: lineAt(lines, start),
    endLine: lineAt(lines, end),
    text: lines.text.slice(start, end),
  };
}
