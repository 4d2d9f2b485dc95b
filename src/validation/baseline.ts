// The baseline of an artifact's suite: `baselineRuns` runs of the original code in parallel, the first one's
// output parsed a second time for check 2. The outcome is shared by every artifact with the same environment,
// script, parser and oracle files (caches.ts), so it carries its records and check 2's verdict with it.
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment } from "../ports/sandbox.js";
import type { TestResults, TestRun, TestRunRecord } from "../ports/validation.js";
import { judgeParser } from "./checks/parser.js";
import type { Verdict } from "./checks/verdict.js";
import type { StartRun, SuiteRun } from "./sandbox-run.js";

export interface BaselineOutcome {
  runs: TestRun[];
  /** Each run's parsed results without canaries, also when the run is tampered; null when parsing failed. */
  results: (TestResults | null)[];
  records: TestRunRecord[];
  /** Check 2, decided on the first run (the parser run twice on its output). */
  parser: Verdict;
  /** Longest chain of dependent runs: the first run plus the second parse of its output. */
  criticalPathMs: number;
}

export async function measureBaseline(
  startRun: StartRun,
  environment: Environment,
  artifact: BugArtifact,
  count: number,
  abortSignal: AbortSignal,
): Promise<BaselineOutcome> {
  const started = Array.from({ length: count }, (_, index) =>
    startRun({
      label: `baseline#${index + 1}`,
      environment,
      artifact,
      patches: [],
      diffs: [],
      baseline: { reparse: index === 0 },
      abortSignal,
    }),
  );
  // Baseline runs have no `prepare`, so none is skipped.
  const outcomes = (await Promise.all(started)) as SuiteRun[];
  const first = outcomes[0]!;
  const reparseMs = first.reparsed?.durationMs ?? 0;
  return {
    runs: outcomes.map((outcome) => outcome.testRun),
    results: outcomes.map((outcome) => outcome.results),
    records: outcomes.map(({ label, testRun }) => ({
      label,
      status: testRun.status,
      durationMs: testRun.durationMs,
      cached: false,
      ...(testRun.graceMs === undefined ? {} : { graceMs: testRun.graceMs }),
    })),
    parser: judgeParser({
      run: first.testRun,
      results: first.results,
      reparsed: first.reparsed?.parsed ?? null,
    }),
    criticalPathMs: Math.max(
      first.testRun.durationMs + reparseMs,
      ...outcomes.map((outcome) => outcome.testRun.durationMs),
    ),
  };
}
