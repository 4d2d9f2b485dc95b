// Cross-checks against the runner's own totals: where the output carries a runner's summary (pytest's closing
// line, unittest's "Ran N tests", Jest's and Vitest's "Tests:" line, go's pass events, cargo's "test result",
// TAP's "# pass"), a parsed result that claims more passes than the runner counted is a lie.
import type { TestResults } from "../../ports/validation.js";

interface TotalsRule {
  runner: string;
  /** Upper bound of passing tests this line vouches for, or null when the line is not this runner's. */
  passes(line: string): number | null;
}

const sumOf = (text: string, pattern: RegExp): number => {
  let total = 0;
  for (const match of text.matchAll(pattern)) total += Number(match[1]);
  return total;
};

const RULES: readonly TotalsRule[] = [
  {
    runner: "pytest",
    passes(line) {
      const summary = /^(?:=+ )?((?:\d+ [a-z]+(?:, )?)+) in \d+(?:\.\d+)?s\b/.exec(line);
      return summary ? sumOf(summary[1]!, /(\d+) x?passed\b/g) : null;
    },
  },
  {
    // Tests may pass, fail or be skipped: "Ran N" bounds the passes (subtests make finer counts unsafe).
    runner: "unittest",
    passes: (line) => {
      const ran = /^Ran (\d+) tests? in /.exec(line);
      return ran ? Number(ran[1]) : null;
    },
  },
  {
    runner: "jest/vitest",
    passes: (line) => {
      const tests = /^\s*Tests:?\s{1,}(.*\d+ passed.*)$/.exec(line);
      return tests ? sumOf(tests[1]!, /(\d+) passed\b/g) : null;
    },
  },
  {
    runner: "cargo",
    passes: (line) => {
      const result = /^test result: \w+\. (\d+) passed;/.exec(line);
      return result ? Number(result[1]) : null;
    },
  },
  {
    runner: "tap",
    passes: (line) => {
      const pass = /^# pass (\d+)\s*$/.exec(line);
      return pass ? Number(pass[1]) : null;
    },
  },
  {
    // Text mode: "--- PASS: TestX" per test and subtest, "ok  pkg" per package (a parser may report
    // packages); JSON mode: one "pass" action per test and package.
    runner: "go",
    passes: (line) => {
      const count =
        (line.match(/"Action":"pass"/g)?.length ?? 0) +
        (/^\s*--- PASS: /.test(line) ? 1 : 0) +
        (/^ok\s+\S+/.test(line) ? 1 : 0);
      return count > 0 ? count : null;
    },
  },
];

export interface RunnerTotals {
  /** Runners whose summaries were found, e.g. ["pytest"]. */
  runners: string[];
  /** Passing tests those summaries account for, summed over every summary in the output. */
  passes: number;
}

/** The runners' own pass counts in a test output; null when no runner summary is in it. */
export function runnerTotals(output: string): RunnerTotals | null {
  const found = new Map<string, number>();
  for (const line of output.split("\n")) {
    for (const rule of RULES) {
      const passes = rule.passes(line.replace(/\r$/, ""));
      if (passes !== null) found.set(rule.runner, (found.get(rule.runner) ?? 0) + passes);
    }
  }
  if (found.size === 0) return null;
  return { runners: [...found.keys()], passes: [...found.values()].reduce((sum, value) => sum + value, 0) };
}

/** A message when the parsed result claims more passes than the runners counted, else null. */
export function crossCheckTotals(results: TestResults, output: string, truncated: boolean): string | null {
  // A cut output may have lost the summary of one of several sessions, so its count proves nothing.
  if (truncated) return null;
  const totals = runnerTotals(output);
  if (totals === null) return null;
  const parsed = Object.values(results).filter((status) => status === "passed").length;
  if (parsed <= totals.passes) return null;
  return `test_parser.py reports ${parsed} passing tests, but the runner's own summary (${totals.runners.join(", ")}) counts at most ${totals.passes}`;
}
