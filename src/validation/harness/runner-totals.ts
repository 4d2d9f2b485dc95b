// Cross-checks against the runner's own totals: where the output carries a runner's summary (pytest's closing
// line, unittest's "Ran N tests", Jest's and Vitest's "Tests:" line, go's pass events, cargo's "test result",
// TAP's "# pass"), a parsed result that claims more passes than the runner counted is a lie.
import type { TestResults } from "../../ports/validation.js";

interface TotalsRule {
  runner: string;
  /** Upper bound of passing tests the runner's own summaries in `lines` vouch for; null when it has none. */
  passes(lines: readonly string[]): number | null;
}

/** Sums the first group of `pattern` over every line it matches; null when no line matches. */
function sumOver(lines: readonly string[], pattern: RegExp, count: (match: RegExpExecArray) => number) {
  let total: number | null = null;
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) total = (total ?? 0) + count(match);
  }
  return total;
}

const passedIn = (text: string, word: RegExp) => {
  let total = 0;
  for (const match of text.matchAll(word)) total += Number(match[1]);
  return total;
};

const RULES: readonly TotalsRule[] = [
  {
    runner: "pytest",
    passes: (lines) =>
      sumOver(lines, /^(?:=+ )?((?:\d+ [a-z]+(?:, )?)+) in \d+(?:\.\d+)?s\b/, (match) =>
        passedIn(match[1]!, /(\d+) x?passed\b/g),
      ),
  },
  // Tests may pass, fail or be skipped: "Ran N" bounds the passes (subtests make finer counts unsafe).
  {
    runner: "unittest",
    passes: (lines) => sumOver(lines, /^Ran (\d+) tests? in /, (match) => Number(match[1])),
  },
  {
    runner: "jest/vitest",
    passes: (lines) =>
      sumOver(lines, /^\s*Tests:?\s+(.*\d+ passed.*)$/, (match) => passedIn(match[1]!, /(\d+) passed\b/g)),
  },
  {
    runner: "cargo",
    passes: (lines) => sumOver(lines, /^test result: \w+\. (\d+) passed;/, (match) => Number(match[1])),
  },
  {
    // "# pass N" closes each TAP stream, but a process that dies (tape on an uncaught exception) prints none,
    // so the "ok" lines printed before it bound the passes too (tape: one per assertion, node: per test).
    runner: "tap",
    passes: (lines) => {
      const totals = sumOver(lines, /^# pass\s+(\d+)\s*$/, (match) => Number(match[1]));
      if (totals === null) return null;
      return Math.max(totals, lines.filter((line) => /^\s*ok \d+\b/.test(line)).length);
    },
  },
  {
    // JSON events (go test -json): one "pass" action per test, subtest and package (a parser may report
    // packages). Text: "--- PASS:" per test and subtest, "ok" per package.
    runner: "go",
    passes: (lines) => {
      const events = lines.filter((line) => line.startsWith("{") && line.includes('"Action":'));
      if (events.length > 0) return events.filter((line) => line.includes('"Action":"pass"')).length;
      return sumOver(lines, /^(\s*--- PASS: |ok +\t\S+\t)/, () => 1);
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
  const lines = output.split("\n").map((line) => line.replace(/\r$/, ""));
  const found: [string, number][] = [];
  for (const rule of RULES) {
    const passes = rule.passes(lines);
    if (passes !== null) found.push([rule.runner, passes]);
  }
  if (found.length === 0) return null;
  return {
    runners: found.map(([runner]) => runner),
    passes: found.reduce((sum, [, passes]) => sum + passes, 0),
  };
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
