// Test weakening: removes exactly the test cases a bug breaks (whole functions or `it`/`test` calls found
// with the code model's locateTest); helpers they used stay. Pure: text in, text out.
import {
  analyzeSource,
  locateTest,
  type SourceAnalysis,
  type SourceSpan,
  type TestFramework,
  type TestLocation,
} from "../code-model/index.js";
import { lineEnd, lineStart } from "../strategies/text-edits.js";

interface Weakening {
  /** New text of every test file the weakening changes. */
  files: { file: string; original: string; changed: string }[];
  /** Test ids whose definition was removed. */
  removed: string[];
  /** Test ids no definition was found for (left in place). */
  unlocated: string[];
}

interface Removal {
  file: string;
  span: SourceSpan;
}

/** The whole lines a span covers when nothing but whitespace (and a trailing `;`/`,`) shares them. */
function removalRange(text: string, span: SourceSpan): { start: number; end: number } {
  const start = lineStart(text, span.start);
  const before = text.slice(start, span.start);
  const endOfLine = lineEnd(text, span.end);
  const after = text.slice(span.end, endOfLine);
  if (before.trim() !== "" || !/^[\s;,]*$/.test(after)) return { start: span.start, end: span.end };
  // Also take one blank line that follows, so removed tests leave no double gaps behind.
  let end = endOfLine;
  const nextEnd = lineEnd(text, end);
  if (end < text.length && text.slice(end, nextEnd).trim() === "") end = nextEnd;
  return { start, end };
}

function withoutNested(removals: Removal[]): Removal[] {
  const sorted = [...removals].sort((a, b) => a.span.start - b.span.start || b.span.end - a.span.end);
  const kept: Removal[] = [];
  for (const removal of sorted) {
    const previous = kept[kept.length - 1];
    if (previous && removal.span.start < previous.span.end) continue; // inside (or equal to) a removed test
    kept.push(removal);
  }
  return kept;
}

function indentOf(line: string): number {
  return (/^[ \t]*/.exec(line)?.[0] ?? "").length;
}

/** The next line at or after `offset` that holds code (not blank, not only a comment), or undefined. */
function codeLineFrom(text: string, offset: number): string | undefined {
  return text
    .slice(offset)
    .split("\n")
    .find((line) => line.trim() !== "" && !line.trim().startsWith("#"));
}

/** The last line before `offset` that holds code, or undefined. */
function codeLineBefore(text: string, offset: number): string | undefined {
  return text
    .slice(0, offset)
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.trim().startsWith("#"))
    .pop();
}

/**
 * Python only: a removed definition indented inside a block (class, `if`, `try`, …) leaves a `pass` when no
 * statement of that block is left beside it, so the file still compiles. tree-sitter recovers from an empty
 * block silently, so this is decided from the text: a sibling follows at the same indentation, or the code
 * before is at that indentation or deeper (inside a sibling); otherwise it is the block's header.
 */
function emptiedBlockFiller(text: string, offset: number, indent: string): string | null {
  if (indent === "") return null;
  const after = codeLineFrom(text, offset);
  if (after !== undefined && indentOf(after) >= indent.length) return null;
  const before = codeLineBefore(text, offset);
  if (before !== undefined && indentOf(before) >= indent.length) return null;
  return `${indent}pass\n`;
}

/**
 * Go only: imports the removed tests alone used, which would no longer compile ("imported and not used").
 * An import is dropped only when its name was used in the original and is not any more.
 */
function withoutUnusedGoImports(original: string, changed: string): string {
  const blockPattern = /^import\s*\(\n([\s\S]*?)^\)/m;
  const singlePattern = /^import\s+((?:[A-Za-z_]\w*\s+)?"[^"]+")[ \t]*\n/gm;
  const specs: { text: string; spec: string }[] = [];
  const block = blockPattern.exec(changed);
  if (block)
    for (const line of block[1]!.split("\n"))
      if (line.trim() !== "") specs.push({ text: `${line}\n`, spec: line });
  for (const match of changed.matchAll(singlePattern)) specs.push({ text: match[0], spec: match[1]! });
  const withoutImports = (text: string) => text.replace(blockPattern, "").replace(singlePattern, "");
  const originalBody = withoutImports(original);
  const changedBody = withoutImports(changed);
  let result = changed;
  for (const { text, spec } of specs) {
    const match = /^\s*(?:([A-Za-z_]\w*|\.)\s+)?"([^"]+)"/.exec(spec);
    if (!match || match[1] === "_" || match[1] === ".") continue;
    const name = match[1] ?? (match[2]!.split("/").pop() ?? "").replace(/^go-/, "").replace(/[.-].*$/, "");
    if (name === "") continue;
    const used = new RegExp(`\\b${name}\\.`);
    if (used.test(originalBody) && !used.test(changedBody)) result = result.replace(text, "");
  }
  return result;
}

function removeFromFile(analysis: SourceAnalysis, spans: Removal[]): string {
  const text = analysis.text;
  const ranges = withoutNested(spans)
    .map((removal) => removalRange(text, removal.span))
    .sort((a, b) => b.start - a.start);
  let changed = text;
  for (const range of ranges) {
    const indent = /^[ \t]*/.exec(text.slice(lineStart(text, range.start)))?.[0] ?? "";
    changed = changed.slice(0, range.start) + changed.slice(range.end);
    if (analysis.language !== "python") continue;
    const filler = emptiedBlockFiller(changed, range.start, indent);
    if (filler) changed = changed.slice(0, range.start) + filler + changed.slice(range.start);
  }
  if (analysis.language === "go") changed = withoutUnusedGoImports(text, changed);
  return changed;
}

/** Whether removing tests left a file the parser accepted unparseable. */
async function breaksSyntax(analysis: SourceAnalysis, changed: string): Promise<boolean> {
  if (analysis.hasSyntaxErrors) return false;
  const reparsed = await analyzeSource({ path: analysis.path, text: changed });
  return reparsed?.hasSyntaxErrors ?? false;
}

/**
 * locateTest, and for JavaScript runners whose ids leave out the file ("suite > case", as some TAP
 * parsers print them) the first test file that defines that path.
 */
export function locateAnywhere(
  testId: string,
  framework: TestFramework,
  testFiles: readonly SourceAnalysis[],
): TestLocation | null {
  const direct = locateTest(testId, framework, testFiles);
  if (direct || !["node-test", "tape", "jest", "vitest", "mocha"].includes(framework)) return direct;
  for (const file of testFiles) {
    const located = locateTest(`${file.path} > ${testId}`, framework, [file]);
    if (located) return located;
  }
  return null;
}

/** Removes the definitions of `brokenTests` from the test files. */
export async function weakenTests(options: {
  brokenTests: readonly string[];
  framework: TestFramework;
  testFiles: readonly SourceAnalysis[];
}): Promise<Weakening> {
  const byFile = new Map<string, Removal[]>();
  const testIdsByFile = new Map<string, string[]>();
  let removed: string[] = [];
  const unlocated: string[] = [];
  for (const testId of options.brokenTests) {
    const location = locateAnywhere(testId, options.framework, options.testFiles);
    if (!location) {
      unlocated.push(testId);
      continue;
    }
    removed.push(testId);
    testIdsByFile.set(location.file, [...(testIdsByFile.get(location.file) ?? []), testId]);
    const list = byFile.get(location.file) ?? [];
    list.push({ file: location.file, span: location.span });
    byFile.set(location.file, list);
  }
  const files: Weakening["files"] = [];
  for (const analysis of options.testFiles) {
    const spans = byFile.get(analysis.path);
    if (!spans) continue;
    const changed = removeFromFile(analysis, spans);
    if (await breaksSyntax(analysis, changed)) {
      // A weakening may only hide tests: a file that would no longer parse stays as it is.
      const ids = testIdsByFile.get(analysis.path) ?? [];
      removed = removed.filter((id) => !ids.includes(id));
      unlocated.push(...ids);
      continue;
    }
    files.push({ file: analysis.path, original: analysis.text, changed });
  }
  return { files, removed, unlocated };
}
