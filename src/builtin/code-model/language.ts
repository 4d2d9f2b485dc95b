// Which tree-sitter grammar reads which file, decided by the file name's extension.
import type { SourceLanguage } from "./types.js";

const BY_EXTENSION: Record<string, SourceLanguage> = {
  ".py": "python",
  ".js": "javascript",
  ".mjs": "javascript",
  ".cjs": "javascript",
  ".jsx": "javascript",
  ".ts": "typescript",
  ".mts": "typescript",
  ".cts": "typescript",
  ".tsx": "tsx",
  ".go": "go",
  ".rs": "rust",
};

/** The language of a file from its name, or null when no supported grammar reads it (`.d.ts` included). */
export function languageOfPath(path: string): SourceLanguage | null {
  if (path.endsWith(".d.ts") || path.endsWith(".d.mts") || path.endsWith(".d.cts")) return null;
  const dot = path.lastIndexOf(".");
  if (dot < 0 || dot < path.lastIndexOf("/")) return null;
  return BY_EXTENSION[path.slice(dot).toLowerCase()] ?? null;
}
