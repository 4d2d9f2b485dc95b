// Turns tree-sitter nodes into plain spans (string offsets, 1-based lines) that outlive the parse tree.
import type { SyntaxNode } from "./grammars.js";
import type { SourceSpan } from "./types.js";

export function spanOf(node: SyntaxNode): SourceSpan {
  return {
    start: node.startIndex,
    end: node.endIndex,
    startLine: node.startPosition.row + 1,
    endLine: node.endPosition.row + 1,
    text: node.text,
  };
}

/** The span from the start of `first` to the end of `last` (e.g. decorators through a function's end). */
export function spanBetween(first: SyntaxNode, last: SyntaxNode, source: string): SourceSpan {
  return {
    start: first.startIndex,
    end: last.endIndex,
    startLine: first.startPosition.row + 1,
    endLine: last.endPosition.row + 1,
    text: source.slice(first.startIndex, last.endIndex),
  };
}
