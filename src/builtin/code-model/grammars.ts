// Loads web-tree-sitter and the tree-sitter-wasms grammars once per process; parsers are reused.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import Parser from "web-tree-sitter";
import { InfrastructureError } from "../../errors.js";
import type { SourceLanguage } from "./types.js";

export type SyntaxNode = Parser.SyntaxNode;
export type SyntaxTree = Parser.Tree;

let initialised: Promise<void> | undefined;
const parsers = new Map<SourceLanguage, Promise<Parser>>();

function grammarPath(language: SourceLanguage): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve("tree-sitter-wasms/package.json");
  } catch (error) {
    throw new InfrastructureError(
      "grammar-missing",
      "the tree-sitter-wasms package is not installed; run `npm install` in the project",
      { cause: error },
    );
  }
  return join(dirname(packageJson), "out", `tree-sitter-${language}.wasm`);
}

async function createParser(language: SourceLanguage): Promise<Parser> {
  initialised ??= Parser.init();
  await initialised;
  const path = grammarPath(language);
  let grammar: Parser.Language;
  try {
    grammar = await Parser.Language.load(path);
  } catch (error) {
    throw new InfrastructureError("grammar-missing", `cannot load the ${language} grammar from ${path}`, {
      data: { path, language },
      cause: error,
    });
  }
  const parser = new Parser();
  parser.setLanguage(grammar);
  cacheNodeProperties(parser);
  return parser;
}

let nodePropertiesCached = false;

/**
 * web-tree-sitter answers `node.type` and `node.endIndex` with a call into wasm on every read, and the
 * analysis reads them many times per node: remember them on the node object after the first read. Nodes
 * are immutable views of a tree that is never edited here, so the cached values cannot go stale.
 */
function cacheNodeProperties(parser: Parser): void {
  if (nodePropertiesCached) return;
  const tree = parser.parse("");
  const prototype = Object.getPrototypeOf(tree.rootNode) as object;
  tree.delete();
  for (const name of ["type", "endIndex"] as const) {
    const original = Object.getOwnPropertyDescriptor(prototype, name)?.get;
    if (!original) continue;
    const slot = Symbol(name);
    Object.defineProperty(prototype, name, {
      configurable: true,
      get(this: Record<symbol, unknown>) {
        if (!(slot in this)) this[slot] = original.call(this);
        return this[slot];
      },
    });
  }
  nodePropertiesCached = true;
}

/** The cached parser of a language (created on first use). */
export function parserFor(language: SourceLanguage): Promise<Parser> {
  let parser = parsers.get(language);
  if (!parser) {
    parser = createParser(language);
    // A failed load is not cached, so that a later call reports the failure again instead of a stale promise.
    parser.catch(() => parsers.delete(language));
    parsers.set(language, parser);
  }
  return parser;
}
