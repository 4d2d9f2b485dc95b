// One validation (DESIGN §3): the runs start at once, then each check waits for the runs it needs and its
// pure judge (checks/) decides, in check order. The first failing check ends the report and aborts the runs
// still in flight; their sandboxes are gone before the report is returned.
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment } from "../ports/sandbox.js";
import type { TestLocator, TestResults, TestRun, Thresholds, ValidationReport } from "../ports/validation.js";
import { abortError, untilAborted } from "./abort.js";
import { type ArtifactRuns, startArtifactRuns } from "./artifact-runs.js";
import type { BaselineOutcome } from "./baseline.js";
import type { BaselineCache, HeldBaseline } from "./caches.js";
import { judgeBaseline } from "./checks/baseline.js";
import { judgeBug } from "./checks/bug.js";
import {
  type FileContribution,
  judgeInverseMutation,
  judgeInverseRun,
  originalAsInverse,
} from "./checks/inverse-mutation.js";
import { judgeScope } from "./checks/scope.js";
import { checkShape, type ShapeSummary } from "./checks/shape.js";
import { judgeTouchedTests, type WeakenedFile } from "./checks/touched-tests.js";
import { resultsOf } from "./checks/verdict.js";
import { definitionKeys, judgeWeakenedRun } from "./checks/weakening.js";
import { type FailedCheck, ReportBuilder } from "./report-builder.js";
import type { StartRun, SuiteRun } from "./sandbox-run.js";

export interface ValidationContext {
  thresholds: Thresholds;
  baselines: BaselineCache;
  /** Starts runs with the time limit the baseline known so far gives (undefined: none known yet). */
  startRunAfter(baseline: BaselineOutcome | undefined): StartRun;
  /** Reads which tests a weakening's hunks edit; without one, check 6 judges the runs alone. */
  testLocator?: TestLocator;
}

/** What the checks have learnt so far, handed from one check to the next. */
interface Judging {
  artifact: BugArtifact;
  summary: ShapeSummary;
  thresholds: Thresholds;
  runs: ArtifactRuns;
  baseline: HeldBaseline;
  report: ReportBuilder;
  signal: AbortSignal;
  /** Filled in by the baseline and bug checks for the checks after them. */
  passing: string[];
  f2p: string[];
  p2p: string[];
  bugResults: TestResults | null;
  /** Original text of the oracle files the weakening changes, read by the tree check. */
  weakenedOriginals: { path: string; text: string }[];
  testLocator: TestLocator | undefined;
}

type Check = (judging: Judging) => Promise<FailedCheck | null> | FailedCheck | null;

export async function validateArtifact(
  context: ValidationContext,
  environment: Environment,
  artifact: BugArtifact,
  id: string,
  callerSignal: AbortSignal,
): Promise<ValidationReport> {
  const report = new ReportBuilder(id);
  // Check 0, the part that needs no sandbox: sizes, parsing, paths, which files each diff may touch.
  const shape = checkShape(artifact);
  if (shape.status === "failed")
    return report.finish({ check: "shape", failure: { status: "failed", ...shape.failure } });
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(abortError(callerSignal));
  callerSignal.addEventListener("abort", onCallerAbort, { once: true });
  const signal = controller.signal;
  const baseline = context.baselines.acquire(environment, artifact, callerSignal);
  const startRun = context.startRunAfter(baseline.outcome);
  const runs = startArtifactRuns(startRun, environment, artifact, shape.summary, signal);
  const judging: Judging = {
    artifact,
    summary: shape.summary,
    thresholds: context.thresholds,
    runs,
    baseline,
    report,
    signal,
    passing: [],
    f2p: [],
    p2p: [],
    bugResults: null,
    weakenedOriginals: [],
    testLocator: context.testLocator,
  };
  try {
    for (const check of CHECKS) {
      const failed = await check(judging);
      if (failed) {
        controller.abort(new DOMException(`check ${failed.check} failed`, "AbortError"));
        return report.finish(failed);
      }
    }
    return report.finish(null);
  } finally {
    baseline.release();
    callerSignal.removeEventListener("abort", onCallerAbort);
    await runs.settled();
  }
}

/** Waits for a run, records it, and rejects when it was aborted. */
async function awaitRun(judging: Judging, promise: Promise<SuiteRun | null>): Promise<TestRun> {
  const run = await promise;
  if (run === null) throw new Error("a test run was skipped although its preparation passed");
  const { label, testRun } = run;
  judging.report.record({
    label,
    status: testRun.status,
    durationMs: testRun.durationMs,
    cached: false,
    ...(testRun.graceMs === undefined ? {} : { graceMs: testRun.graceMs }),
  });
  judging.report.waitedFor(testRun.durationMs);
  if (testRun.status === "aborted") throw abortError(judging.signal);
  return testRun;
}

/** Checks 0 and 1 against the original tree, decided in the bug+weaken run's sandbox. */
async function treeChecks(judging: Judging): Promise<FailedCheck | null> {
  const { runs, report } = judging;
  const tree = await runs.tree;
  if (tree.oracleFiles === null) return { check: "shape", failure: tree.shape };
  report.pass("shape", tree.shape.evidence);
  if (tree.oracleFiles.status !== "passed") return { check: "oracle-files", failure: tree.oracleFiles };
  report.pass("oracle-files", tree.oracleFiles.evidence);
  judging.weakenedOriginals = tree.weakenedOriginals;
  return null;
}

/** Checks 2 and 3 on the (possibly cached) baseline. */
async function baselineChecks(judging: Judging): Promise<FailedCheck | null> {
  const { baseline, report, signal } = judging;
  const base = await untilAborted(baseline.promise, signal);
  baseline.release();
  for (const record of base.records) report.record({ ...record, cached: baseline.cached });
  if (!baseline.cached) report.waitedFor(base.criticalPathMs);
  if (signal.aborted) throw abortError(signal);
  if (base.parser.status !== "passed") return { check: "parser", failure: base.parser };
  report.pass("parser", base.parser.evidence);
  const failedRun = base.results.indexOf(null);
  if (failedRun >= 0 && base.runs[failedRun]!.status === "aborted") throw abortError(signal);
  const { minPassingTests } = judging.thresholds;
  const { verdict, sets } = judgeBaseline({ runs: base.runs, results: base.results, minPassingTests });
  if (sets) {
    report.sets.flaky = sets.flaky;
    judging.passing = sets.passing;
  }
  if (verdict.status !== "passed") return { check: "baseline", failure: verdict };
  report.pass("baseline", verdict.evidence);
  return null;
}

/** Check 4: pure. */
function scopeCheck({ summary, thresholds, report }: Judging): FailedCheck | null {
  const verdict = judgeScope(summary.bugFiles, thresholds.minChangedFiles);
  if (verdict.status !== "passed") return { check: "scope", failure: verdict };
  report.pass("scope", verdict.evidence);
  return null;
}

/** Check 5: the bug alone. */
async function bugCheck(judging: Judging): Promise<FailedCheck | null> {
  const run = await awaitRun(judging, judging.runs.bug);
  const { minFailingTests } = judging.thresholds;
  const { verdict, f2p, p2p } = judgeBug({ passing: judging.passing, run, minFailingTests });
  Object.assign(judging, { f2p, p2p, bugResults: resultsOf(run) });
  if (run.status !== "tampered") Object.assign(judging.report.sets, { f2p, p2p });
  if (verdict.status !== "passed") return { check: "bug", failure: verdict };
  judging.report.pass("bug", verdict.evidence);
  return null;
}

/**
 * Check 6: bug + weakening hides some of the F2P tests and changes nothing else, judged on the run and on
 * the weakening's hunks (the tests they edit must be F2P tests).
 */
async function weakeningCheck(judging: Judging): Promise<FailedCheck | null> {
  const { f2p, p2p, bugResults, summary, artifact } = judging;
  const run = await awaitRun(judging, judging.runs.bugAndWeaken);
  const inheritedWeakening = artifact.meta.order === 2;
  const files = await locatedWeakenedFiles(judging);
  const verdict = judgeWeakenedRun(run, {
    f2p,
    p2p,
    bugResults,
    weakenedFiles: summary.weakenFiles,
    inheritedWeakening,
    ...(files ? { definitions: definitionKeys(files) } : {}),
  });
  if (verdict.status !== "passed") return { check: "weakening", failure: verdict };
  const touched = files
    ? judgeTouchedTests({ files, f2p, p2p, weakenedResults: resultsOf(run), inheritedWeakening })
    : null;
  if (touched && touched.status !== "passed")
    return {
      check: "weakening",
      failure: { ...touched, evidence: { ...verdict.evidence, ...touched.evidence } },
    };
  judging.report.pass("weakening", { ...verdict.evidence, ...touched?.evidence });
  return null;
}

/** The weakened oracle files with their test definitions located; null without a test locator. */
async function locatedWeakenedFiles(judging: Judging): Promise<WeakenedFile[] | null> {
  const { testLocator, weakenedOriginals, summary, f2p, p2p } = judging;
  if (!testLocator) return null;
  const ids = [...f2p, ...p2p];
  const files: WeakenedFile[] = [];
  for (const part of summary.weakenFileDiffs) {
    const original = weakenedOriginals.find((file) => file.path === part.file);
    if (!original) continue;
    const located = await testLocator.testDefinitions(original, ids);
    files.push({ file: part.file, hunks: part.hunks, definitions: located?.definitions ?? null });
  }
  return files;
}

/** Check 7: every bug file contributes; a one-file bug's inverse is the original, i.e. the baseline. */
async function inverseMutationCheck(judging: Judging): Promise<FailedCheck | null> {
  const { runs, summary, report, f2p } = judging;
  const contributions: FileContribution[] = [];
  if (runs.inverses.length === 0) {
    const file = summary.bugFiles[0]!;
    report.record({ label: `inverse:${file}`, status: "ok", durationMs: 0, cached: true });
    contributions.push(originalAsInverse(file, f2p));
  }
  for (const inverse of runs.inverses) {
    const judged = judgeInverseRun(inverse.file, await awaitRun(judging, inverse.run), f2p);
    if (judged.status === "tampered") return { check: "inverse-mutation", failure: judged.failure };
    contributions.push(judged.contribution);
  }
  report.sets.fileContributions = contributions;
  const verdict = judgeInverseMutation(contributions);
  if (verdict.status !== "passed") return { check: "inverse-mutation", failure: verdict };
  report.pass("inverse-mutation", verdict.evidence);
  return null;
}

/** The checks after the static shape check, in DESIGN §3's order. */
const CHECKS: readonly Check[] = [
  treeChecks,
  baselineChecks,
  scopeCheck,
  bugCheck,
  weakeningCheck,
  inverseMutationCheck,
];
