// Part of check 6, read from the weakening itself: every test definition a hunk of test_weaken.diff
// removes or changes must be an F2P test (or a sibling case or subtest of an F2P test's own function). A
// weakening that edits a P2P test, even one that still passes, hides nothing the bug broke and misleads the
// solver, whose specification is its reverse. Pure: the hunks and the files' test definitions in.
import type { Hunk } from "../../artifact/index.js";
import type { TestDefinition, TestResults } from "../../ports/validation.js";
import type { Verdict } from "./verdict.js";
import { listIds } from "./verdict.js";
import { testFunctionKey } from "./weakening.js";

export interface WeakenedFile {
  file: string;
  /** The hunks of test_weaken.diff for this file, in the original file's line numbers. */
  hunks: readonly Hunk[];
  /** Test definitions of the original file; null when its language is not one the locator reads. */
  definitions: readonly TestDefinition[] | null;
}

export interface TouchedTestsInput {
  files: readonly WeakenedFile[];
  f2p: readonly string[];
  p2p: readonly string[];
  /** Results with bug + weakening (null when that run produced none). */
  weakenedResults: TestResults | null;
  /** A second-order artifact's weakening was made for its parent's bug (see WeakeningInput). */
  inheritedWeakening?: boolean;
}

/** One test definition a weakening edits although it is no F2P test. */
export interface TouchedP2p {
  file: string;
  /** The definition's names, outermost first, joined with " > ". */
  test: string;
  /** The P2P test ids it defines. */
  testIds: string[];
  /** The hunk's header and its line in test_weaken.diff. */
  hunk: string;
}

/** Old-file lines a hunk changes: its removed lines, and for an insertion the two lines around it. */
function touchedRanges(hunk: Hunk): { first: number; last: number }[] {
  const ranges: { first: number; last: number }[] = [];
  let old = hunk.oldStart;
  for (const line of hunk.lines) {
    if (line.kind === "removed") ranges.push({ first: old, last: old });
    // An added line goes between old lines `old - 1` and `old`: it edits a definition holding both.
    else if (line.kind === "added") ranges.push({ first: old - 1, last: old });
    if (line.kind !== "added") old += 1;
  }
  return ranges;
}

/** The innermost definition holding the whole range (a subtest rather than its test function). */
function innermost(
  definitions: readonly TestDefinition[],
  range: { first: number; last: number },
): TestDefinition | undefined {
  let best: TestDefinition | undefined;
  for (const definition of definitions) {
    if (definition.startLine > range.first || definition.endLine < range.last) continue;
    if (!best || definition.endLine - definition.startLine < best.endLine - best.startLine) best = definition;
  }
  return best;
}

function hunkLabel(hunk: Hunk): string {
  return `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@ (line ${hunk.line} of test_weaken.diff)`;
}

/** Each definition the file's hunks edit, with the first hunk that edits it. */
function touchedDefinitions(file: WeakenedFile): { definition: TestDefinition; hunk: Hunk }[] {
  const touched = new Map<TestDefinition, Hunk>();
  for (const hunk of file.hunks)
    for (const range of touchedRanges(hunk)) {
      const definition = innermost(file.definitions ?? [], range);
      if (definition && !touched.has(definition)) touched.set(definition, hunk);
    }
  return [...touched].map(([definition, hunk]) => ({ definition, hunk }));
}

export function judgeTouchedTests(input: TouchedTestsInput): Verdict {
  const f2p = new Set(input.f2p);
  const p2p = new Set(input.p2p);
  const f2pFunctions = new Set(input.f2p.map(testFunctionKey));
  const results = input.weakenedResults ?? {};
  const violations: TouchedP2p[] = [];
  const inherited: string[] = [];
  let touchedF2p = 0;
  for (const file of input.files) {
    for (const { definition, hunk } of touchedDefinitions(file)) {
      if (definition.testIds.some((id) => f2p.has(id))) {
        touchedF2p += 1;
        continue;
      }
      const passing = definition.testIds.filter(
        (id) => p2p.has(id) && !f2pFunctions.has(testFunctionKey(id)),
      );
      if (passing.length === 0) continue;
      // A second-order artifact's inherited weakening removed its parent's F2P tests whole: they are missing.
      if (input.inheritedWeakening && passing.every((id) => results[id] === undefined)) {
        inherited.push(...passing);
        continue;
      }
      violations.push({
        file: file.file,
        test: definition.path.join(" > "),
        testIds: passing,
        hunk: hunkLabel(hunk),
      });
    }
  }
  const unread = input.files.filter((file) => file.definitions === null).map((file) => file.file);
  const evidence = {
    touchedF2pDefinitions: touchedF2p,
    ...(inherited.length > 0 ? { touchedByInheritedWeakening: inherited } : {}),
    ...(unread.length > 0 ? { weakenedFilesNotRead: unread } : {}),
  };
  if (violations.length === 0) return { status: "passed", evidence };
  const named = violations.map((v) => `${v.test} in ${v.file} (${listIds(v.testIds, 3)}; hunk ${v.hunk})`);
  return {
    status: "failed",
    reason: `test_weaken.diff edits ${violations.length} P2P test(s) the bug does not break: ${listIds(named, 5)}; a weakening may only change F2P tests`,
    evidence: { ...evidence, touchedP2p: violations },
  };
}
