// Maps a test id printed by a discovery parser back to the test case that defines it.
import type { SourceAnalysis, TestFramework, TestLocation } from "./types.js";

/** A test id split into the file it names (when it names one), the nested names, and pytest-style parameters. */
export interface ParsedTestId {
  file: string | null;
  /** Suite and test names, outermost first, parameters removed. */
  path: string[];
  /** The parameter part of a parametrized id, e.g. "1-2" of `test_x[1-2]`; null when absent. */
  parameters: string | null;
}

export function parseTestId(testId: string, framework: TestFramework): ParsedTestId {
  void testId;
  void framework;
  throw new Error("parseTestId: not implemented yet");
}

/** The definition of `testId` among `files`, or null when none matches. Pure. */
export function locateTest(
  testId: string,
  framework: TestFramework,
  files: readonly SourceAnalysis[],
): TestLocation | null {
  void files;
  void parseTestId(testId, framework);
  return null;
}
