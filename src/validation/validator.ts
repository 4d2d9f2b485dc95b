// The consistency checks (DESIGN §3): independent test runs in parallel sandboxes, judged in check order;
// the first failing check aborts the runs still in flight. Baselines and whole reports are cached.
import { artifactId } from "../artifact/index.js";
import { Semaphore } from "../concurrency/semaphore.js";
import { createLogger } from "../log.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment, Sandbox } from "../ports/sandbox.js";
import type {
  CheckName,
  CheckResult,
  TestResults,
  TestRun,
  TestRunRecord,
  ValidationReport,
} from "../ports/validation.js";
import { CHECK_ORDER } from "../ports/validation.js";
import { parseTestOutput } from "../test-run/run-test-suite.js";
import { judgeWeakening } from "./checks/weakening.js";
import { environmentKey } from "./environment-key.js";
import { type Guard, prepareGuard, runGuarded, vouchedRun } from "./harness/guarded-run.js";
import { harnessEvidence, tamperedFailure } from "./harness/verdicts.js";
import type { Validator, ValidatorOptions } from "./options.js";
import { type Deferred, deferred, withSandbox } from "./sandbox-work.js";
import { checkShape, checkShapeAgainstTree, inspectTree, type ShapeSummary } from "./shape.js";
import { classifyBaseline, differingIds, restoredBy, splitByBug } from "./test-sets.js";
import { resolveThresholds } from "./thresholds.js";

const log = createLogger("validation");
const DEFAULT_CONCURRENCY = 8;
const DEFAULT_RUN_TIMEOUT = { factor: 5, fixedMs: 30_000 };
const MAX_LISTED = 5;
/** Cache sizes: a long run sees many parsers and artifacts; the oldest settled entries go first. */
const MAX_BASELINES = 64;
const MAX_REPORTS = 2_000;

/** Drops the oldest entries (Map keeps insertion order) that `removable` allows, down to `limit`. */
function trim<V>(cache: Map<string, V>, limit: number, removable: (value: V) => boolean): void {
  for (const [key, value] of cache) {
    if (cache.size <= limit) return;
    if (removable(value)) cache.delete(key);
  }
}

type Verdict = { passed: true; evidence: Record<string, unknown> } | Failure;
type Failure = { passed: false; reason: string; evidence: Record<string, unknown> };

interface BaselineOutcome {
  runs: TestRun[];
  /** Each run's parsed results without canaries, also when the run is tampered; null when parsing failed. */
  results: (TestResults | null)[];
  records: TestRunRecord[];
  /** Check 2, decided on the first run (the parser run twice on its output). */
  parser: Verdict;
  /** Longest chain of dependent runs: the first run plus the second parse of its output. */
  criticalPathMs: number;
}

interface BaselineEntry {
  promise: Promise<BaselineOutcome>;
  controller: AbortController;
  /** Validations waiting on it that were not aborted by their caller. */
  waiters: number;
  settled: boolean;
  outcome?: BaselineOutcome;
}

interface ArtifactRun {
  label: string;
  testRun: TestRun;
}

/** What the bug+weaken sandbox learned about the original tree before running anything. */
type TreeCheck = { check: "shape" | "oracle-files"; failure: Failure } | { check: null };

function list(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_LISTED).join(", ");
  return ids.length > MAX_LISTED ? `${shown} and ${ids.length - MAX_LISTED} more` : shown;
}

function resultsOf(run: TestRun): TestResults | null {
  return run.status === "ok" ? run.results : null;
}

function describeFailure(run: Exclude<TestRun, { status: "ok" }>): string {
  return `${run.status}: ${run.message}`;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The validation was aborted", "AbortError");
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (the shared baseline keeps running). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export function createValidator(options: ValidatorOptions): Validator {
  const thresholds = resolveThresholds(options.thresholds);
  const limiter = new Semaphore("test-runs", options.concurrency ?? DEFAULT_CONCURRENCY);
  const baselines = new Map<string, BaselineEntry>();
  const reports = new Map<string, Promise<ValidationReport>>();
  const background = new Set<Promise<unknown>>();
  const { sandboxes } = options;
  const runTimeout = { ...DEFAULT_RUN_TIMEOUT, ...options.runTimeout };

  /**
   * With a baseline already measured, a run of the same suite gets factor × the slowest baseline run +
   * a fixed margin (capped by the threshold), so a bug that makes tests hang is not waited on for long.
   */
  function derivedTimeout(outcome: BaselineOutcome | undefined): number {
    if (!outcome || outcome.runs.some((run) => run.status !== "ok")) return thresholds.testTimeoutMs;
    const slowest = Math.max(...outcome.runs.map((run) => run.durationMs));
    return Math.min(thresholds.testTimeoutMs, Math.round(runTimeout.factor * slowest + runTimeout.fixedMs));
  }

  /** Reads what a guarded run needs from the sandbox's original tree, before `diffs` are applied. */
  function guardFor(sandbox: Sandbox, artifact: BugArtifact, diffs: string[]) {
    return prepareGuard(sandbox, { testFiles: artifact.testFiles, diffs, integrity: options.integrity });
  }

  async function runIn(
    sandbox: Sandbox,
    guard: Guard,
    artifact: BugArtifact,
    abortSignal: AbortSignal,
    timeoutMs = thresholds.testTimeoutMs,
  ) {
    return runGuarded(sandbox, guard, {
      testScript: artifact.testScript,
      testParser: artifact.testParser,
      timeoutMs,
      abortSignal,
    });
  }

  function computeBaseline(environment: Environment, artifact: BugArtifact, signal: AbortSignal) {
    const runs = Array.from({ length: thresholds.baselineRuns }, (_, index) =>
      limiter.run(
        () =>
          withSandbox(sandboxes, environment, `validate:baseline#${index + 1}`, async (sandbox) => {
            const guarded = await runIn(sandbox, await guardFor(sandbox, artifact, []), artifact, signal);
            const testRun = vouchedRun(guarded);
            const { results } = guarded;
            if (index !== 0 || results === null) return { testRun, results, reparsed: null };
            // Check 2: the same output must give the same answer twice.
            const reparsed = await parseTestOutput(sandbox, guarded.execution.output, signal);
            if (reparsed.parsed.status === "ok")
              reparsed.parsed.results = guarded.strip(reparsed.parsed.results);
            return { testRun, results, reparsed };
          }),
        signal,
      ),
    );
    return Promise.all(runs).then((outcomes): BaselineOutcome => {
      const first = outcomes[0]!;
      const records = outcomes.map(({ testRun }, index) => ({
        label: `baseline#${index + 1}`,
        status: testRun.status,
        durationMs: testRun.durationMs,
        cached: false,
      }));
      let parser: Verdict;
      const run = first.testRun;
      // A tampered run was parsed all the same: the parser is judged first, the canaries at the baseline check.
      if (first.results !== null) {
        const again = first.reparsed?.parsed;
        if (again?.status === "ok") {
          const differing = differingIds(first.results, again.results);
          parser =
            differing.length === 0
              ? { passed: true, evidence: { tests: Object.keys(first.results).length, deterministic: true } }
              : {
                  passed: false,
                  reason: `test_parser.py gives different answers on the same output: ${differing.length} test(s) differ (${list(differing)})`,
                  evidence: { deterministic: false, differing },
                };
        } else {
          parser = {
            passed: false,
            reason: `test_parser.py failed on its second run over the same output (${again?.status}: ${again && "message" in again ? again.message : "aborted"})`,
            evidence: { deterministic: false },
          };
        }
      } else if (run.status === "timed-out" || run.status === "aborted") {
        parser = {
          passed: false,
          reason: `test_script.sh on the original code ${run.status === "timed-out" ? "timed out" : "was aborted"} (${run.message}), so the parser had no output to read`,
          evidence: { run: run.status, outputTail: run.outputTail },
        };
      } else {
        // No results means the parse failed, so the run is one of the failures.
        const failed = run as Exclude<TestRun, { status: "ok" }>;
        parser = {
          passed: false,
          reason: `on the original code ${describeFailure(failed)}`,
          evidence: { run: failed.status, outputTail: failed.outputTail },
        };
      }
      const reparseMs = first.reparsed?.durationMs ?? 0;
      const criticalPathMs = Math.max(
        run.durationMs + reparseMs,
        ...outcomes.map((outcome) => outcome.testRun.durationMs),
      );
      return {
        runs: outcomes.map((outcome) => outcome.testRun),
        results: outcomes.map((outcome) => outcome.results),
        records,
        parser,
        criticalPathMs,
      };
    });
  }

  /** The shared baseline of (environment, script, parser, oracle files); joins one in flight. */
  function acquireBaseline(environment: Environment, artifact: BugArtifact, callerSignal: AbortSignal) {
    const key = JSON.stringify([
      environmentKey(environment),
      artifact.testScript,
      artifact.testParser,
      [...artifact.testFiles].sort(),
    ]);
    let entry = baselines.get(key);
    const cached = entry !== undefined;
    if (!entry) {
      const controller = new AbortController();
      const created: BaselineEntry = {
        controller,
        waiters: 0,
        settled: false,
        promise: computeBaseline(environment, artifact, controller.signal),
      };
      created.promise.then(
        (outcome) => {
          created.settled = true;
          created.outcome = outcome;
          if (outcome.runs.some((run) => run.status === "aborted") && baselines.get(key) === created) {
            baselines.delete(key);
          }
        },
        () => {
          created.settled = true;
          if (baselines.get(key) === created) baselines.delete(key);
        },
      );
      background.add(created.promise);
      created.promise.finally(() => background.delete(created.promise)).catch(() => {});
      baselines.set(key, created);
      trim(baselines, MAX_BASELINES, (entry) => entry.settled);
      entry = created;
    }
    const joined = entry;
    joined.waiters++;
    // A baseline is only abandoned when every validation waiting on it was aborted by its caller;
    // a failing check elsewhere leaves it running, because the next artifact will want it.
    let left = false;
    const leave = () => {
      if (left) return false;
      left = true;
      joined.waiters--;
      callerSignal.removeEventListener("abort", onCallerAbort);
      return true;
    };
    const onCallerAbort = () => {
      if (leave() && joined.waiters === 0 && !joined.settled) {
        if (baselines.get(key) === joined) baselines.delete(key);
        joined.controller.abort(abortError(callerSignal));
      }
    };
    callerSignal.addEventListener("abort", onCallerAbort, { once: true });
    return { promise: joined.promise, cached, outcome: joined.outcome, release: () => void leave() };
  }

  async function runValidation(
    environment: Environment,
    artifact: BugArtifact,
    id: string,
    callerSignal: AbortSignal,
  ): Promise<ValidationReport> {
    const startedAt = performance.now();
    const checks = new Map<CheckName, CheckResult>();
    const records: TestRunRecord[] = [];
    let criticalPathMs = 0;
    const report = (
      failed: { check: CheckName; failure: Failure } | null,
      sets: Partial<ValidationReport> = {},
    ) => {
      if (failed) {
        checks.set(failed.check, {
          check: failed.check,
          verdict: "failed",
          reason: failed.failure.reason,
          evidence: failed.failure.evidence,
        });
      }
      const result: ValidationReport = {
        artifactId: id,
        verdict: failed ? "invalid" : "valid",
        failedCheck: failed?.check ?? null,
        reason: failed?.failure.reason ?? null,
        checks: CHECK_ORDER.map(
          (check) => checks.get(check) ?? { check, verdict: "not-run", reason: null, evidence: {} },
        ),
        f2p: sets.f2p ?? [],
        p2p: sets.p2p ?? [],
        flaky: sets.flaky ?? [],
        fileContributions: sets.fileContributions ?? [],
        testRuns: records,
        wallTimeMs: Math.round(performance.now() - startedAt),
        criticalPathMs: Math.round(criticalPathMs),
      };
      log.info("artifact-validated", {
        artifact: id,
        verdict: result.verdict,
        failedCheck: result.failedCheck ?? undefined,
        runs: records.filter((record) => !record.cached).length,
        wallTimeMs: result.wallTimeMs,
      });
      return result;
    };
    const pass = (check: CheckName, evidence: Record<string, unknown>) =>
      checks.set(check, { check, verdict: "passed", reason: null, evidence });

    // Check 0, the part that needs no sandbox: sizes, parsing, paths, which files each diff may touch.
    const shape = checkShape(artifact);
    if (!shape.ok) return report({ check: "shape", failure: { passed: false, ...shape.failure } });
    const summary: ShapeSummary = shape.summary;

    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(abortError(callerSignal));
    callerSignal.addEventListener("abort", onCallerAbort, { once: true });
    const signal = controller.signal;
    const baseline = acquireBaseline(environment, artifact, callerSignal);
    const runTimeoutMs = derivedTimeout(baseline.outcome);
    const tasks: Promise<unknown>[] = [];
    /** `diffs`: everything applied to the original in this run (by `prepare` or as `patches`), for pinning. */
    const launch = <T>(
      label: string,
      prepare: ((sandbox: Sandbox) => Promise<boolean>) | null,
      patches: string[],
      diffs: string[] = patches,
    ) => {
      const task = limiter.run(
        () =>
          withSandbox(
            sandboxes,
            environment,
            `validate:${label}`,
            async (sandbox): Promise<ArtifactRun | null> => {
              const guard = await guardFor(sandbox, artifact, diffs);
              if (prepare && !(await prepare(sandbox))) return null;
              for (const patch of patches) {
                const applied = await sandbox.applyPatch(patch);
                if (applied.status === "rejected") {
                  throw new Error(
                    `a patch that applied in the shape check did not apply for ${label}: ${applied.message}`,
                  );
                }
              }
              const { testRun } = await runIn(sandbox, guard, artifact, signal, runTimeoutMs);
              return { label, testRun };
            },
          ),
        signal,
      );
      tasks.push(task.catch(() => {}));
      return task as Promise<T>;
    };

    try {
      // The bug+weaken sandbox first checks the original tree (symlinks, oracle files) and that both diffs
      // apply in order: that is the rest of checks 0 and 1, so it goes first in the queue.
      const tree: Deferred<TreeCheck> = deferred();
      const bugAndWeaken = launch<ArtifactRun | null>(
        "bug+weaken",
        async (sandbox) => {
          const verdict = await checkTree(sandbox, artifact, summary, signal);
          tree.resolve(verdict);
          return verdict.check === null;
        },
        [],
        [artifact.bugInjectDiff, artifact.testWeakenDiff],
      );
      bugAndWeaken.catch((error) => tree.reject(error));
      const bugOnly = launch<ArtifactRun | null>("bug", null, [artifact.bugInjectDiff]);
      const inverses =
        summary.bugFileDiffs.length > 1
          ? summary.bugFileDiffs.map((reverted) =>
              launch<ArtifactRun | null>(
                `inverse:${reverted.file}`,
                null,
                summary.bugFileDiffs.filter((part) => part !== reverted).map((part) => part.diff),
              ),
            )
          : [];

      const failWith = (check: CheckName, failure: Failure, sets?: Partial<ValidationReport>) => {
        controller.abort(new DOMException(`check ${check} failed`, "AbortError"));
        return report({ check, failure }, sets);
      };
      const awaitRun = async (promise: Promise<ArtifactRun | null>) => {
        const run = await promise;
        if (run === null) throw new Error("a test run was skipped although its preparation passed");
        records.push({
          label: run.label,
          status: run.testRun.status,
          durationMs: run.testRun.durationMs,
          cached: false,
        });
        criticalPathMs = Math.max(criticalPathMs, run.testRun.durationMs);
        if (run.testRun.status === "aborted") throw abortError(signal);
        return run.testRun;
      };

      const treeCheck = await tree.promise;
      if (treeCheck.check === "shape") return failWith("shape", treeCheck.failure);
      pass("shape", {
        bugFiles: summary.bugFiles,
        weakenFiles: summary.weakenFiles,
        applies: "bug_inject.diff then test_weaken.diff apply cleanly",
        ...harnessEvidence(summary),
      });
      if (treeCheck.check === "oracle-files") return failWith("oracle-files", treeCheck.failure);
      pass("oracle-files", { oracleFiles: summary.oracleFiles, weakenFiles: summary.weakenFiles });

      // Checks 2 and 3 on the (possibly cached) baseline.
      const base = await untilAborted(baseline.promise, signal);
      baseline.release();
      for (const [index, record] of base.records.entries()) {
        records.push({ ...record, cached: baseline.cached });
        if (index === 0 && !baseline.cached) criticalPathMs = Math.max(criticalPathMs, base.criticalPathMs);
      }
      if (signal.aborted) throw abortError(signal);
      if (!base.parser.passed) return failWith("parser", base.parser);
      pass("parser", base.parser.evidence);
      const failedBaseline = base.results.indexOf(null);
      if (failedBaseline >= 0) {
        const run = base.runs[failedBaseline] as Exclude<TestRun, { status: "ok" }>;
        if (run.status === "aborted") throw abortError(signal);
        return failWith("baseline", {
          passed: false,
          reason: `baseline run #${failedBaseline + 1} on the original code failed: ${describeFailure(run)}`,
          evidence: { run: failedBaseline + 1, status: run.status, outputTail: run.outputTail },
        });
      }
      const sets = classifyBaseline(base.results as TestResults[]);
      const baselineEvidence = {
        runs: base.runs.length,
        passing: sets.passing.length,
        tests: sets.all.length,
        flaky: sets.flaky,
        minPassingTests: thresholds.minPassingTests,
      };
      if (sets.passing.length < thresholds.minPassingTests) {
        return failWith(
          "baseline",
          {
            passed: false,
            reason: `the original code passes ${sets.passing.length} test(s) in every baseline run; at least ${thresholds.minPassingTests} are required`,
            evidence: baselineEvidence,
          },
          { flaky: sets.flaky },
        );
      }
      const tampered = base.runs.findIndex((run) => run.status === "tampered");
      if (tampered >= 0) {
        return failWith(
          "baseline",
          tamperedFailure(
            `baseline#${tampered + 1}`,
            base.runs[tampered] as Exclude<TestRun, { status: "ok" }>,
          ),
          { flaky: sets.flaky },
        );
      }
      pass("baseline", baselineEvidence);

      // Check 4: pure.
      if (summary.bugFiles.length < thresholds.minChangedFiles) {
        return failWith(
          "scope",
          {
            passed: false,
            reason: `bug_inject.diff changes ${summary.bugFiles.length} file(s); at least ${thresholds.minChangedFiles} are required`,
            evidence: { changedFiles: summary.bugFiles, minChangedFiles: thresholds.minChangedFiles },
          },
          { flaky: sets.flaky },
        );
      }
      pass("scope", { changedFiles: summary.bugFiles, minChangedFiles: thresholds.minChangedFiles });

      // Check 5: the bug alone.
      const bugRun = await awaitRun(bugOnly as Promise<ArtifactRun | null>);
      if (bugRun.status === "tampered")
        return failWith("bug", tamperedFailure("bug", bugRun), { flaky: sets.flaky });
      const bugResults = resultsOf(bugRun);
      const { f2p, p2p } = splitByBug(sets.passing, bugResults);
      const bugEvidence = {
        f2p,
        p2p: p2p.length,
        run: bugRun.status,
        minFailingTests: thresholds.minFailingTests,
        ...(bugRun.status === "ok" ? {} : { message: bugRun.message, outputTail: bugRun.outputTail }),
      };
      const partial = { flaky: sets.flaky, f2p, p2p };
      if (f2p.length < thresholds.minFailingTests) {
        return failWith(
          "bug",
          {
            passed: false,
            reason: `with the bug ${f2p.length} baseline-passing test(s) fail; at least ${thresholds.minFailingTests} must`,
            evidence: bugEvidence,
          },
          partial,
        );
      }
      if (p2p.length === 0) {
        const why = bugRun.status === "ok" ? "" : ` (the test run ${describeFailure(bugRun)})`;
        return failWith(
          "bug",
          {
            passed: false,
            reason: `with the bug no baseline-passing test passes any more${why}: a bug that breaks everything is not a bug`,
            evidence: bugEvidence,
          },
          partial,
        );
      }
      pass("bug", bugEvidence);

      // Check 6: bug + weakening hides some of the F2P tests and changes nothing else.
      const weakenedRun = await awaitRun(bugAndWeaken);
      if (weakenedRun.status === "tampered")
        return failWith("weakening", tamperedFailure("bug+weaken", weakenedRun), partial);
      const weakening = judgeWeakening({
        f2p,
        p2p,
        bugResults,
        weakenedResults: resultsOf(weakenedRun),
        weakenedFiles: summary.weakenFiles,
        inheritedWeakening: artifact.meta.order === 2,
        ...(weakenedRun.status === "ok" ? {} : { runFailure: describeFailure(weakenedRun) }),
      });
      if (!weakening.passed) return failWith("weakening", weakening, partial);
      pass("weakening", weakening.evidence);

      // Check 7: every bug file contributes; a one-file bug's inverse is the original, i.e. the baseline.
      const fileContributions: { file: string; restoredTests: string[] }[] = [];
      if (inverses.length === 0) {
        const file = summary.bugFiles[0]!;
        records.push({ label: `inverse:${file}`, status: "ok", durationMs: 0, cached: true });
        fileContributions.push({ file, restoredTests: f2p });
      } else {
        for (const [index, inverse] of inverses.entries()) {
          const file = summary.bugFiles[index]!;
          const run = await awaitRun(inverse);
          if (run.status === "tampered")
            return failWith("inverse-mutation", tamperedFailure(`inverse:${file}`, run), partial);
          fileContributions.push({ file, restoredTests: restoredBy(f2p, resultsOf(run)) });
        }
      }
      const idle = fileContributions
        .filter((entry) => entry.restoredTests.length === 0)
        .map((entry) => entry.file);
      const inverseEvidence = { contributions: fileContributions, nonContributing: idle };
      if (idle.length > 0) {
        return failWith(
          "inverse-mutation",
          {
            passed: false,
            reason: `reverting ${idle.length === 1 ? "this bug file" : "these bug files"} alone makes no F2P test pass again, so ${idle.length === 1 ? "it does" : "they do"} not contribute to the bug: ${list(idle)}`,
            evidence: inverseEvidence,
          },
          { ...partial, fileContributions },
        );
      }
      pass("inverse-mutation", inverseEvidence);
      return report(null, { ...partial, fileContributions });
    } finally {
      baseline.release();
      callerSignal.removeEventListener("abort", onCallerAbort);
      // Sandboxes of aborted runs are destroyed before the report is returned.
      await Promise.allSettled(tasks);
    }
  }

  return {
    thresholds,
    validate(environment, artifact, validateOptions = {}) {
      const id = artifactId(artifact);
      const key = `${environmentKey(environment)}\u0000${id}`;
      const callerSignal = validateOptions.abortSignal ?? new AbortController().signal;
      if (callerSignal.aborted) return Promise.reject(abortError(callerSignal));
      const existing = reports.get(key);
      if (existing) return existing;
      const promise = runValidation(environment, artifact, id, callerSignal);
      reports.set(key, promise);
      trim(reports, MAX_REPORTS, (entry) => entry !== promise);
      // Aborted or broken validations are not remembered; the next call tries again.
      promise.catch(() => {
        if (reports.get(key) === promise) reports.delete(key);
      });
      return promise;
    },
    async close() {
      for (const entry of baselines.values()) {
        if (!entry.settled) entry.controller.abort(new DOMException("validator closed", "AbortError"));
      }
      baselines.clear();
      await Promise.allSettled([...background]);
    },
  };
}

async function checkTree(
  sandbox: Sandbox,
  artifact: BugArtifact,
  summary: ShapeSummary,
  signal: AbortSignal,
): Promise<TreeCheck> {
  const facts = await inspectTree(sandbox, summary, signal);
  const unsafe = checkShapeAgainstTree(artifact, summary, facts);
  if (unsafe) return { check: "shape", failure: { passed: false, ...unsafe } };
  for (const [name, diff] of [
    ["bug_inject.diff", artifact.bugInjectDiff],
    ["test_weaken.diff", artifact.testWeakenDiff],
  ] as const) {
    const applied = await sandbox.applyPatch(diff);
    if (applied.status === "rejected") {
      return {
        check: "shape",
        failure: {
          passed: false,
          reason: `${name} does not apply${name === "test_weaken.diff" ? " after bug_inject.diff" : ""}: ${applied.message}`,
          evidence: { diff: name, file: applied.file, hunk: applied.hunk },
        },
      };
    }
  }
  if (facts.missing.length > 0) {
    return {
      check: "oracle-files",
      failure: {
        passed: false,
        reason: `test_files.txt lists file(s) that do not exist in the original repository: ${list(facts.missing)}`,
        evidence: { missing: facts.missing },
      },
    };
  }
  return { check: null };
}
