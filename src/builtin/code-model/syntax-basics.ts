// What every per-language rule needs: the statement family of a language, the ancestors the walker
// keeps, and small helpers over tree-sitter nodes.
import type { SyntaxNode } from "./grammars.js";
import type { SourceLanguage } from "./types.js";

export type StatementFamily = "python" | "javascript" | "go" | "rust";

export function familyOf(language: SourceLanguage): StatementFamily {
  if (language === "typescript" || language === "tsx" || language === "javascript") return "javascript";
  return language;
}

export function field(node: SyntaxNode, name: string): SyntaxNode | null {
  return node.childForFieldName(name);
}

/**
 * The chain of nodes above the one being looked at, outermost first (the walker keeps it, because
 * tree-sitter's `node.parent` searches down from the root and is slow on large files).
 */
export type Ancestors = readonly SyntaxNode[];

export function unquote(text: string): string {
  if (text.length >= 2 && (text[0] === '"' || text[0] === "'" || text[0] === "`") && text.at(-1) === text[0])
    return text.slice(1, -1);
  return text;
}
