// Shared vocabulary of test runs, consistency checks and grading. Implemented in src/validation/.

export type TestStatus = "passed" | "failed" | "skipped" | "error";
/** Test id → status, as printed by an artifact's test_parser.py. */
export type TestResults = Record<string, TestStatus>;

export type TestRunFailure =
  | "timed-out"
  | "aborted"
  | "parser-crashed"
  | "not-json"
  | "wrong-shape"
  | "empty"
  /** The run lied: a canary test was misreported, or the parser claims more passes than the runner counted. */
  | "tampered";

/** One execution of test_script.sh parsed by test_parser.py. Failures are data. */
export type TestRun = (
  | { status: "ok"; results: TestResults; durationMs: number; truncated: boolean }
  | { status: TestRunFailure; message: string; durationMs: number; outputTail: string }
) & {
  /** Present only when a command of the run needed the sandbox's grace (see RunResult.graceMs). */
  graceMs?: number;
};

export interface Thresholds {
  minPassingTests: number;
  minChangedFiles: number;
  minFailingTests: number;
  baselineRuns: number;
  testTimeoutMs: number;
}

export type CheckName =
  | "shape"
  | "oracle-files"
  | "parser"
  | "baseline"
  | "scope"
  | "bug"
  | "weakening"
  | "inverse-mutation";

export const CHECK_ORDER: readonly CheckName[] = [
  "shape",
  "oracle-files",
  "parser",
  "baseline",
  "scope",
  "bug",
  "weakening",
  "inverse-mutation",
];

export interface CheckResult {
  check: CheckName;
  verdict: "passed" | "failed" | "not-run";
  /** Human-readable; names files, lines and tests where it can. */
  reason: string | null;
  /** Test ids, counts, files: whatever backs the verdict. JSON-serialisable. */
  evidence: Record<string, unknown>;
}

export interface TestRunRecord {
  /** What was run, e.g. "baseline#1", "bug", "bug+weaken", "inverse:src/a.py". */
  label: string;
  status: TestRun["status"];
  durationMs: number;
  /** True when the result came from the baseline cache and cost nothing now. */
  cached: boolean;
  /** Present only when a command of the run needed the sandbox's grace (see RunResult.graceMs). */
  graceMs?: number;
}

export interface ValidationReport {
  artifactId: string;
  verdict: "valid" | "invalid";
  failedCheck: CheckName | null;
  reason: string | null;
  checks: CheckResult[];
  /** Baseline-passing tests that do not pass with the bug (flaky excluded). */
  f2p: string[];
  /** Baseline-passing tests that still pass with the bug (flaky excluded). */
  p2p: string[];
  flaky: string[];
  /** Per bug file: the F2P tests that pass again when that file alone is reverted. */
  fileContributions: { file: string; restoredTests: string[] }[];
  testRuns: TestRunRecord[];
  wallTimeMs: number;
  /** Sum of the longest chain of dependent test runs. */
  criticalPathMs: number;
}

export interface GradeResult {
  resolved: boolean;
  /** `tampered`: the run's canaries or the runner's own totals contradict the parsed result (reward -1). */
  status: "resolved" | "unresolved" | "patch-rejected" | "test-run-failed" | "tampered";
  reason: string | null;
  failedF2P: string[];
  failedP2P: string[];
  /**
   * Files of the predicted patch that belong to the test harness (conftest.py, runner configuration, …):
   * they were put back to the original before the run, so these edits had no effect. Absent in older records.
   */
  harnessEditsIgnored?: string[];
  durationMs: number;
}

/** A test definition in a source file (a test function or method, an `it`/`test` call, a Go subtest). */
export interface TestDefinition {
  /** Names from the outermost suite to the test itself, e.g. ["TestStack", "test_push"]. */
  path: string[];
  /** 1-based, inclusive: the whole definition (decorators included). */
  startLine: number;
  endLine: number;
  /** Which of the test ids asked about this definition defines (parametrised cases, subtests). */
  testIds: string[];
}

/**
 * Reads where the tests of a source file are defined, so validation can tell which tests a diff touches. The
 * composition root supplies a language-aware implementation (the builtin code model).
 */
export interface TestLocator {
  /**
   * The test definitions of `file` and which of `testIds` each defines; null when the file's language is
   * not one it reads. `parses` is false when the text has syntax errors (the definitions are best effort).
   */
  testDefinitions(
    file: { path: string; text: string },
    testIds: readonly string[],
  ): Promise<{ parses: boolean; definitions: TestDefinition[] } | null>;
}
