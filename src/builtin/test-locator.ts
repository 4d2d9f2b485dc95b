// The TestLocator port on the builtin code model: a source file's test definitions (tree-sitter) and which
// test ids each defines (locateTest under every runner's id shape that the file's language can have).
import type { TestDefinition, TestLocator } from "../ports/validation.js";
import { analyzeSource, type SourceLanguage, type TestFramework } from "./code-model/index.js";
import { locateAnywhere } from "./weakening/weaken-tests.js";

/** The id shapes a test file of each language can be reported in, tried in this order. */
const FRAMEWORKS: Record<SourceLanguage, TestFramework[]> = {
  python: ["pytest"],
  javascript: ["node-test", "mocha"],
  typescript: ["node-test", "mocha"],
  tsx: ["node-test", "mocha"],
  go: ["go"],
  rust: ["cargo"],
};

export const codeModelTestLocator: TestLocator = {
  async testDefinitions(file, testIds) {
    const analysis = await analyzeSource(file);
    if (!analysis) return null;
    const definitions = new Map<number, TestDefinition>();
    const definitionAt = (span: { start: number; startLine: number; endLine: number }, path: string[]) => {
      const known = definitions.get(span.start);
      if (known) return known;
      const added = { path, startLine: span.startLine, endLine: span.endLine, testIds: [] };
      definitions.set(span.start, added);
      return added;
    };
    for (const testCase of analysis.testCases) definitionAt(testCase.span, testCase.path);
    for (const id of testIds) {
      for (const framework of FRAMEWORKS[analysis.language]) {
        const location = locateAnywhere(id, framework, [analysis]);
        if (!location) continue;
        definitionAt(location.span, location.testCase.path).testIds.push(id);
        break;
      }
    }
    const sorted = [...definitions.values()].sort((a, b) => a.startLine - b.startLine);
    return { parses: !analysis.hasSyntaxErrors, definitions: sorted };
  },
};
