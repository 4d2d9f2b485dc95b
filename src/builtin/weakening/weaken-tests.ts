// Test weakening: removes exactly the test cases a bug breaks (whole functions or `it`/`test` calls found
// with the code model's locateTest); helpers they used stay. Pure: text in, text out.
import {
  locateTest,
  type SourceAnalysis,
  type SourceSpan,
  type TestFramework,
  type TestLocation,
} from "../code-model/index.js";
import { lineEnd, lineStart } from "../strategies/text-edits.js";

export interface Weakening {
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

/** Lines of `text` before `offset` (last first) and from `offset` on, blank ones skipped. */
function neighbouringLines(
  text: string,
  offset: number,
): { before: string | undefined; after: string | undefined } {
  const before = text
    .slice(0, offset)
    .split("\n")
    .filter((line) => line.trim() !== "")
    .pop();
  const after = text
    .slice(offset)
    .split("\n")
    .find((line) => line.trim() !== "");
  return { before, after };
}

function indentOf(line: string): number {
  return (/^[ \t]*/.exec(line)?.[0] ?? "").length;
}

/**
 * Python only: when a removal empties a block (the class of a removed test method), the block keeps a
 * `pass`. tree-sitter recovers from an empty block silently, so this is decided from the text itself.
 */
function emptiedBlockFiller(text: string, offset: number): string | null {
  const { before, after } = neighbouringLines(text, offset);
  if (before === undefined || !/:\s*(#.*)?$/.test(before)) return null;
  if (!/^\s*(class|def|async def|if|elif|else|for|while|with|try|except|finally)\b/.test(before)) return null;
  if (after !== undefined && indentOf(after) > indentOf(before)) return null;
  return `${/^[ \t]*/.exec(before)?.[0] ?? ""}    pass\n`;
}

async function removeFromFile(analysis: SourceAnalysis, spans: Removal[]): Promise<string> {
  const text = analysis.text;
  const ranges = withoutNested(spans)
    .map((removal) => removalRange(text, removal.span))
    .sort((a, b) => b.start - a.start);
  let changed = text;
  for (const range of ranges) {
    changed = changed.slice(0, range.start) + changed.slice(range.end);
    if (analysis.language !== "python") continue;
    const filler = emptiedBlockFiller(changed, range.start);
    if (filler) changed = changed.slice(0, range.start) + filler + changed.slice(range.start);
  }
  return changed;
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
  if (direct || !["node-test", "jest", "vitest", "mocha"].includes(framework)) return direct;
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
  const removed: string[] = [];
  const unlocated: string[] = [];
  for (const testId of options.brokenTests) {
    const location = locateAnywhere(testId, options.framework, options.testFiles);
    if (!location) {
      unlocated.push(testId);
      continue;
    }
    removed.push(testId);
    const list = byFile.get(location.file) ?? [];
    list.push({ file: location.file, span: location.span });
    byFile.set(location.file, list);
  }
  const files: Weakening["files"] = [];
  for (const analysis of options.testFiles) {
    const spans = byFile.get(analysis.path);
    if (!spans) continue;
    files.push({
      file: analysis.path,
      original: analysis.text,
      changed: await removeFromFile(analysis, spans),
    });
  }
  return { files, removed, unlocated };
}
