// Option and result types of the validation API, so callers can code against them in one place.
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment, Sandbox, SandboxBackend, SandboxView } from "../ports/sandbox.js";
import type { GradeResult, TestLocator, TestRun, Thresholds, ValidationReport } from "../ports/validation.js";

/**
 * "enforced": every defence of the harness (DESIGN §4); "off", or some defences left out, only to measure what
 * they cost and catch (bench/grade, the hack tests).
 */
export type Integrity = "enforced" | "off" | { without: readonly Defence[] };

/**
 * The harness's defences: pinning harness files; canary files beside the oracle tests; the runners' own totals;
 * pytest's result channel; canaries planted inside pytest at collection; twins of the F2P tests (grading);
 * harness files written at run time.
 */
export type Defence =
  | "pinning"
  | "canaries"
  | "totals"
  | "channel"
  | "process-canaries"
  | "twins"
  | "run-writes";

export interface ValidatorOptions {
  sandboxes: SandboxBackend;
  thresholds?: Partial<Thresholds>;
  /**
   * Test runs (each in its own sandbox) in flight at once, across all validations of this validator [8]:
   * a three-file bug has seven independent runs, all admitted at once.
   */
  concurrency?: number;
  /**
   * Limit of a non-baseline run once the baseline is known: factor × slowest baseline run + fixedMs, never
   * above thresholds.testTimeoutMs [5 × baseline + 30 s].
   */
  runTimeout?: { factor?: number; fixedMs?: number };
  /** Harness pinning, canaries and cross-checks in every run ["enforced"]; "off" only for measurements. */
  integrity?: Integrity;
  /**
   * Reads which tests the weakening's hunks edit, so check 6 rejects a weakening that changes a P2P test even
   * when it still passes; without one, check 6 judges the test runs alone.
   */
  testLocator?: TestLocator;
}

export interface Validator {
  readonly thresholds: Thresholds;
  /** Runs the consistency checks; cached by (environment, artifact id), so a second call costs nothing. */
  validate(
    environment: Environment,
    artifact: BugArtifact,
    options?: { abortSignal?: AbortSignal },
  ): Promise<ValidationReport>;
  /** Aborts baselines still running in the background (they are kept running for the next artifact). */
  close(): Promise<void>;
}

export interface GradeOptions {
  sandboxes: SandboxBackend;
  environment: Environment;
  artifact: BugArtifact;
  /** A valid report of this artifact: its F2P and P2P tests decide resolution. */
  report: ValidationReport;
  /** The solver's predicted patch, relative to the buggy state. */
  patch: string;
  /** A failed predicted patch that was part of the buggy state the solver started from. */
  extraPatch?: string;
  /** Test-script limit [5 × the slowest baseline run in the report + 30 s, at most 90 s]. */
  timeoutMs?: number;
  abortSignal?: AbortSignal;
  /**
   * Harness pinning, canaries and cross-checks ["enforced"]. "off" exists only to measure what they cost and
   * catch (bench/grade); a run never uses it.
   */
  integrity?: Integrity;
}

export type { GradeResult };

export interface SolverTaskOptions {
  sandboxes: SandboxBackend;
  environment: Environment;
  artifact: BugArtifact;
  /** A failed predicted patch applied on top of the buggy state (second-order tasks). */
  extraPatch?: string;
  label?: string;
}

export interface SolverTask {
  /** The buggy state, history replaced by one fresh commit, snapshotted: diff() is the predicted patch. */
  sandbox: Sandbox;
  /** The reverse of test_weaken.diff. */
  specification: string;
  /** The fixed solver prompt with the specification inside. */
  prompt: string;
}

export interface SecondOrderOptions {
  sandboxes: SandboxBackend;
  environment: Environment;
  parent: BugArtifact;
  /** A predicted patch that did not resolve the parent, relative to the parent's buggy state. */
  failedPatch: string;
  /** Creation time stamp of the new artifact [now]. */
  createdAt?: string;
}

export type { SandboxView, TestRun };
