// The consistency checks as a service (DESIGN §3): scheduling, timeouts and caching, each a decorator around
// one test-run function, in the spirit of stryker's test-runner chain. A run in a sandbox of its own
// (sandbox-run.ts) ← at most `concurrency` in flight (limiter) ← its time limit (timeout); baselines and whole
// reports cached (caches.ts). Which runs a validation starts and how they are judged: check-sequence.ts.
import { artifactId } from "../artifact/index.js";
import { Semaphore } from "../concurrency/semaphore.js";
import { type BaselineOutcome, measureBaseline } from "./baseline.js";
import { BaselineCache, cachedReports } from "./caches.js";
import { validateArtifact } from "./check-sequence.js";
import type { Validator, ValidatorOptions } from "./options.js";
import { DEFAULT_RUN_TIMEOUT, type RunTimeout, timeoutFromBaseline } from "./run-timeout.js";
import { type RunTests, type StartRun, sandboxRunner } from "./sandbox-run.js";
import { DEFAULT_TEST_RUN_CONCURRENCY, resolveThresholds } from "./thresholds.js";

/** Limiter: runs wait for a permit, first come first served; one whose signal aborts leaves the queue. */
function limitedBy(permits: Semaphore, runTests: RunTests): RunTests {
  return (request) => permits.run(() => runTests(request), request.abortSignal);
}

/** Timeout: every run started through it gets `timeoutMs`; the sandbox kills its process tree at the limit. */
function timedBy(timeoutMs: number, runTests: RunTests): StartRun {
  return (request) => runTests({ ...request, timeoutMs });
}

/**
 * The limit of a validation's runs: with a baseline already measured (and every run of it complete), factor ×
 * the slowest baseline run + a fixed margin, so a bug that makes tests hang is not waited on for long; the
 * threshold otherwise and at most.
 */
function runLimit(baseline: BaselineOutcome | undefined, timeout: RunTimeout, capMs: number): number {
  if (!baseline || baseline.runs.some((run) => run.status !== "ok")) return capMs;
  return timeoutFromBaseline(
    baseline.runs.map((run) => run.durationMs),
    timeout,
    capMs,
  );
}

export function createValidator(options: ValidatorOptions): Validator {
  const thresholds = resolveThresholds(options.thresholds);
  const runTimeout = { ...DEFAULT_RUN_TIMEOUT, ...options.runTimeout };
  const permits = new Semaphore("test-runs", options.concurrency ?? DEFAULT_TEST_RUN_CONCURRENCY);
  const runTests = limitedBy(permits, sandboxRunner(options.sandboxes, options.integrity));
  const baselines = new BaselineCache((environment, artifact, signal) =>
    measureBaseline(
      timedBy(thresholds.testTimeoutMs, runTests),
      environment,
      artifact,
      thresholds.baselineRuns,
      signal,
    ),
  );
  const context = {
    thresholds,
    baselines,
    ...(options.testLocator ? { testLocator: options.testLocator } : {}),
    startRunAfter: (baseline: BaselineOutcome | undefined) =>
      timedBy(runLimit(baseline, runTimeout, thresholds.testTimeoutMs), runTests),
  };
  const validate = cachedReports((environment, artifact, id, signal) =>
    validateArtifact(context, environment, artifact, id, signal),
  );
  return {
    thresholds,
    validate(environment, artifact, validateOptions = {}) {
      const signal = validateOptions.abortSignal ?? new AbortController().signal;
      return validate(environment, artifact, artifactId(artifact), signal);
    },
    close: () => baselines.close(),
  };
}
