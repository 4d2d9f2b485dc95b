// test_script.sh and test_parser.py for each supported framework; parsers are .py files in ./parsers.
import type { TestFramework } from "./types.js";

/** How a test script runs one framework (filled in by discovery). */
export interface ScriptPlan {
  framework: TestFramework;
  /** The command that runs the tests from the repository root, e.g. "python3 -m pytest -rA -p no:cacheprovider". */
  command: string;
}

/** The self-contained test_parser.py for a framework. */
export function parserSource(framework: TestFramework): string {
  void framework;
  throw new Error("parserSource: not implemented yet");
}

/** The test_script.sh for a plan. */
export function testScriptFor(plan: ScriptPlan): string {
  void plan;
  throw new Error("testScriptFor: not implemented yet");
}
