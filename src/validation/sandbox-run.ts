// The innermost test-run function of validation: one run in a fresh sandbox of its own. The guard is read
// from the original tree, `prepare` may look at that tree first, the patches go on, the suite runs guarded.
// Scheduling, timeouts and caching wrap this function (validator.ts, caches.ts).
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment, Sandbox, SandboxBackend } from "../ports/sandbox.js";
import type { TestResults, TestRun } from "../ports/validation.js";
import { type ParserOutcome, parseTestOutput } from "../test-run/run-test-suite.js";
import { type GuardedRun, prepareGuard, runGuarded, vouchedRun } from "./harness/guarded-run.js";
import type { Integrity } from "./options.js";
import { withSandbox } from "./sandbox-work.js";

export interface RunRequest {
  /** What is run, e.g. "baseline#1", "bug", "bug+weaken", "inverse:src/a.py"; also names the sandbox. */
  label: string;
  environment: Environment;
  artifact: BugArtifact;
  /** Applied to the original tree before the run, in order. */
  patches: string[];
  /** Everything applied to the original in this run (by `prepare` or as `patches`), for the harness pin. */
  diffs: string[];
  /** Work on the original tree before the patches; false skips the test run (its check already failed). */
  prepare?: (sandbox: Sandbox) => Promise<boolean>;
  /** A baseline run: the canaries must vouch for it, and `reparse` runs the parser on its output again. */
  baseline?: { reparse: boolean };
  timeoutMs: number;
  abortSignal: AbortSignal;
}

export interface SuiteRun {
  label: string;
  testRun: TestRun;
  /** The parsed results without canaries, also when the run is tampered; null when parsing failed. */
  results: TestResults | null;
  /** The second parse of a baseline run's output (canaries stripped), and what it cost. */
  reparsed: { parsed: ParserOutcome; durationMs: number } | null;
}

/** A test-run function: null when `prepare` skipped the run. Decorators wrap it. */
export type RunTests = (request: RunRequest) => Promise<SuiteRun | null>;

export function sandboxRunner(sandboxes: SandboxBackend, integrity?: Integrity): RunTests {
  return (request) =>
    withSandbox(sandboxes, request.environment, `validate:${request.label}`, async (sandbox) => {
      const { artifact, label } = request;
      const guard = await prepareGuard(sandbox, {
        testFiles: artifact.testFiles,
        diffs: request.diffs,
        integrity,
      });
      if (request.prepare && !(await request.prepare(sandbox))) return null;
      for (const patch of request.patches) {
        const applied = await sandbox.applyPatch(patch);
        if (applied.status === "rejected") {
          throw new Error(
            `a patch that applied in the shape check did not apply for ${label}: ${applied.message}`,
          );
        }
      }
      const guarded = await runGuarded(sandbox, guard, {
        testScript: artifact.testScript,
        testParser: artifact.testParser,
        timeoutMs: request.timeoutMs,
        abortSignal: request.abortSignal,
      });
      if (!request.baseline)
        return { label, testRun: guarded.testRun, results: guarded.results, reparsed: null };
      const reparse = request.baseline.reparse && guarded.results !== null;
      const reparsed = reparse ? await reparseOutput(sandbox, guarded, request.abortSignal) : null;
      return { label, testRun: vouchedRun(guarded), results: guarded.results, reparsed };
    });
}

/** Check 2's second parse: the same output through the parser again, the run's canaries stripped. */
async function reparseOutput(sandbox: Sandbox, guarded: GuardedRun, signal: AbortSignal) {
  const reparsed = await parseTestOutput(sandbox, guarded.execution.output, signal);
  if (reparsed.parsed.status === "ok") reparsed.parsed.results = guarded.strip(reparsed.parsed.results);
  return reparsed;
}

/** A request as the checks make it: the timeout decorator adds the limit. */
export type UntimedRequest = Omit<RunRequest, "timeoutMs">;
export type StartRun = (request: UntimedRequest) => Promise<SuiteRun | null>;
