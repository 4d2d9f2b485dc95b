// A test run that a patch cannot fool: harness files the run's diffs touch are put back to the original (new
// ones removed), canaries are planted beside the oracle tests, and the parsed result is checked against both
// the canaries and the runner's own totals. All of it travels with the test run's own command.
import { createLogger } from "../../log.js";
import type { SandboxView } from "../../ports/sandbox.js";
import type { TestResults, TestRun } from "../../ports/validation.js";
import type { RunObserver, RunTestSuiteOptions, TreeEdits } from "../../test-run/options.js";
import {
  PRIVATE_DIR,
  runTestSuiteKeepingOutput,
  type ScriptExecution,
  tail,
} from "../../test-run/run-test-suite.js";
import { diffParts } from "../diff-parts.js";
import type { Defence, Integrity } from "../options.js";
import { type OracleSnapshot, readOracleFiles } from "../oracle-files.js";
import {
  type CanaryPlan,
  type CanarySite,
  type CanaryVerdict,
  canarySites,
  judgeCanaries,
  planCanaries,
  siblingsToRead,
  withoutCanaries,
} from "./canaries.js";
import { harnessPaths, PACKAGE_JSON_HARNESS_KEYS, pinnedByKeys } from "./harness-files.js";
import {
  judgeChannel,
  judgeProcessCanaries,
  judgeTwins,
  PYTEST_GUARD_MODULE,
  type PytestGuardPlan,
  planPytestGuard,
  readChannel,
  withoutGuardTests,
} from "./pytest-guard.js";
import { judgeRunWrites, listWritesSince, markBeforeRun } from "./run-writes.js";
import { crossCheckTotals, runnerTotals } from "./runner-totals.js";

const log = createLogger("validation.harness");

export interface Guard {
  enabled: boolean;
  /** The defences this guard applies (every one when enforced). */
  defences: ReadonlySet<Defence>;
  /** Tests to plant twins of (grading: the F2P tests). */
  twins: readonly string[];
  oracleFiles: readonly string[];
  /** Originals of the harness files the diffs touch (content null: absent in the original). */
  harness: OracleSnapshot[];
  sites: CanarySite[];
  siblings: Map<string, string>;
}

export interface GuardedRun {
  /** Canary ids removed; status "tampered" when a canary lied or the runner's totals contradict the parse. */
  testRun: TestRun;
  execution: ScriptExecution;
  /** The parsed results without canaries, also when the run is tampered; null when the parse failed. */
  results: TestResults | null;
  canaries: CanaryVerdict;
  /** Harness files the diffs changed and the run put back, e.g. ["conftest.py", "package.json (scripts)"]. */
  harnessEditsIgnored: string[];
  /** Removes this run's canary ids from another parse of the same output. */
  strip(results: TestResults): TestResults;
}

/** Every path a diff touches (both sides of renames); an unreadable diff touches nothing it could apply. */
export function touchedPaths(diffs: readonly string[]): string[] {
  return diffs.flatMap((diff) => {
    const parts = diffParts(diff);
    return parts.status === "ok" ? parts.parts.flatMap((part) => part.paths) : [];
  });
}

/**
 * Reads, from the sandbox's original tree (before any diff is applied), what the guarded run needs: the
 * harness files `diffs` touch and the oracle files canaries copy their style from. `known` are snapshots
 * already read (grading reads every oracle file anyway).
 */
export async function prepareGuard(
  sandbox: SandboxView,
  options: {
    testFiles: readonly string[];
    diffs: readonly string[];
    integrity?: Integrity;
    known?: readonly OracleSnapshot[];
    /** Tests whose randomly named twins must agree with them (grading: the F2P tests). */
    twins?: readonly string[];
  },
): Promise<Guard> {
  const defences = defencesOf(options.integrity);
  const base = { defences, twins: options.twins ?? [], oracleFiles: options.testFiles };
  if (defences.size === 0) return { enabled: false, ...base, harness: [], sites: [], siblings: new Map() };
  const harness = defences.has("pinning") ? harnessPaths(touchedPaths(options.diffs), options.testFiles) : [];
  const sites = defences.has("canaries") ? canarySites(options.testFiles) : [];
  const known = new Map((options.known ?? []).map((snapshot) => [snapshot.path, snapshot]));
  const wanted = [...new Set([...harness, ...siblingsToRead(sites)])].filter((path) => !known.has(path));
  for (const snapshot of wanted.length > 0 ? await readOracleFiles(sandbox, wanted) : [])
    known.set(snapshot.path, snapshot);
  const siblings = new Map<string, string>();
  for (const path of siblingsToRead(sites)) {
    const content = known.get(path)?.content;
    if (content) siblings.set(path, content.toString("utf8"));
  }
  return { enabled: true, ...base, harness: harness.map((path) => known.get(path)!), sites, siblings };
}

const ALL_DEFENCES: readonly Defence[] = [
  "pinning",
  "canaries",
  "totals",
  "channel",
  "process-canaries",
  "twins",
  "run-writes",
];

/** The defences an integrity setting applies. */
export function defencesOf(integrity: Integrity | undefined): ReadonlySet<Defence> {
  if (integrity === "off") return new Set();
  const without = new Set(typeof integrity === "object" ? integrity.without : []);
  return new Set(ALL_DEFENCES.filter((defence) => !without.has(defence)));
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** A package.json with its harness keys taken from the original; null when it cannot be merged. */
export function mergePackageJson(original: string, patched: string): { text: string; keys: string[] } | null {
  const before = parseObject(original);
  const after = parseObject(patched);
  if (before === null || after === null) return null;
  const keys = PACKAGE_JSON_HARNESS_KEYS.filter(
    (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
  );
  for (const key of keys) {
    if (key in before) after[key] = before[key];
    else delete after[key];
  }
  const indent = /^[{[]\s*\n([ \t]+)/.exec(patched)?.[1] ?? "  ";
  return { text: `${JSON.stringify(after, null, indent)}\n`, keys };
}

/** The tree edits that put the harness back, and the names of the edits they undo. */
async function pinningEdits(
  sandbox: SandboxView,
  harness: readonly OracleSnapshot[],
): Promise<{ edits: TreeEdits; ignored: string[] }> {
  const edits: TreeEdits = { remove: [], write: [] };
  const ignored: string[] = [];
  for (const snapshot of harness) {
    if (snapshot.content === null) {
      edits.remove.push(snapshot.path);
      ignored.push(snapshot.path);
      continue;
    }
    if (pinnedByKeys(snapshot.path)) {
      const patched = await sandbox.readFile(snapshot.path).catch(() => null);
      const merged = patched && mergePackageJson(snapshot.content.toString("utf8"), patched.toString("utf8"));
      if (merged) {
        if (merged.keys.length === 0) continue;
        edits.write.push({ path: snapshot.path, content: merged.text, mode: snapshot.mode });
        ignored.push(`${snapshot.path} (${merged.keys.join(", ")})`);
        continue;
      }
    }
    edits.write.push({ path: snapshot.path, content: snapshot.content, mode: snapshot.mode });
    ignored.push(snapshot.path);
  }
  return { edits, ignored };
}

/** What watches a run from outside the repository: pytest's guard and the list of files the run wrote. */
interface Watch {
  observer: RunObserver;
  pytest: PytestGuardPlan | null;
  writes: boolean;
}

const WATCH_DIR = `${PRIVATE_DIR}/watch`;

function watchOf(guard: Guard, withPytest: boolean): Watch | null {
  const { defences } = guard;
  const python = guard.oracleFiles.some((path) => path.endsWith(".py"));
  const parts = {
    channel: defences.has("channel"),
    canaries: defences.has("process-canaries"),
    twins: defences.has("twins") ? guard.twins : [],
  };
  const pytest =
    withPytest && python && (parts.channel || parts.canaries || parts.twins.length > 0)
      ? planPytestGuard(WATCH_DIR, parts)
      : null;
  const writes = defences.has("run-writes");
  if (pytest === null && !writes) return null;
  const mark = `${WATCH_DIR}/mark`;
  const after = [
    pytest
      ? `if [ -e ${pytest.channelPath} ]; then cat ${pytest.channelPath}; else echo ${CHANNEL_GONE}; fi\n`
      : "",
    `echo ${WRITES_HEADER}\n`,
    writes ? listWritesSince(mark) : "",
  ].join("");
  return {
    observer: {
      files: pytest?.files ?? [],
      setup: `${pytest?.setup ?? ""}${writes ? `mkdir -p ${WATCH_DIR}\n${markBeforeRun(mark)}` : ""}`,
      after,
    },
    pytest,
    writes,
  };
}

const CHANNEL_GONE = "SWE_SELFPLAY_CHANNEL_GONE";
const WRITES_HEADER = "SWE_SELFPLAY_WRITES";

/** The watch's findings: a message when the run lied, else null. */
function judgeWatch(
  watch: Watch,
  execution: ScriptExecution,
  results: TestResults,
  oracleFiles: readonly string[],
): string | null {
  if (execution.observed === null || execution.observed === undefined)
    return "the harness's record of the run is missing: something stopped the script's shell before it was written";
  const headerAt = execution.observed.lastIndexOf(`${WRITES_HEADER}\n`);
  const channelText = headerAt < 0 ? execution.observed : execution.observed.slice(0, headerAt);
  const listing = headerAt < 0 ? "" : execution.observed.slice(headerAt + WRITES_HEADER.length + 1);
  if (watch.writes) {
    const written = judgeRunWrites(listing, oracleFiles);
    if (written !== null) return written;
  }
  const pytest = watch.pytest;
  if (pytest === null) return null;
  if (channelText.includes(CHANNEL_GONE)) return "the run removed the harness's record of what pytest ran";
  const channel = readChannel(channelText);
  const totals = runnerTotals(execution.output);
  const pytestAlone = totals === null || totals.runners.every((runner) => runner === "pytest");
  return (
    (pytest.hasChannel ? judgeChannel(results, channel, pytestAlone) : null) ??
    judgeProcessCanaries(results, channel, pytest.canaries) ??
    judgeTwins(results, channel)
  );
}

/** pytest could not import the guard (the script replaced PYTHONPATH), so the run has no pytest result. */
function guardNotLoaded(execution: ScriptExecution): boolean {
  return (
    execution.output.includes(`Error importing plugin "${PYTEST_GUARD_MODULE}"`) &&
    !(execution.observed ?? "").includes('"event": "load"')
  );
}

/** Runs the test suite under the guard, after the caller applied the diffs it was prepared for. */
export async function runGuarded(
  sandbox: SandboxView,
  guard: Guard,
  options: RunTestSuiteOptions,
): Promise<GuardedRun> {
  const { edits, ignored } = guard.enabled
    ? await pinningEdits(sandbox, guard.harness)
    : { edits: { remove: [], write: [] }, ignored: [] };
  const plan: CanaryPlan = guard.enabled
    ? planCanaries(guard.sites, guard.siblings)
    : { planted: [], files: [] };
  edits.write.push(...plan.files);
  let watch = guard.enabled ? watchOf(guard, true) : null;
  const runOnce = () =>
    runTestSuiteKeepingOutput(sandbox, {
      ...options,
      prepare: edits,
      ...(watch ? { observe: watch.observer } : {}),
    });
  let { testRun, execution } = await runOnce();
  if (watch?.pytest && guardNotLoaded(execution)) {
    // Judged without pytest's guard rather than condemned: the script, not the code, kept it out.
    watch = watchOf(guard, false);
    ({ testRun, execution } = await runOnce());
  }
  const pytestPlan = watch?.pytest ?? null;
  const strip = (results: TestResults) => withoutGuardTests(withoutCanaries(results, plan), pytestPlan);
  if (testRun.status !== "ok" || !guard.enabled) {
    const results = testRun.status === "ok" ? testRun.results : null;
    return { testRun, execution, results, canaries: { status: "none" }, harnessEditsIgnored: ignored, strip };
  }
  const canaries = judgeCanaries(testRun.results, plan);
  if (canaries.status === "unplantable") log.warn("canaries-unplantable", { message: canaries.message });
  const lie =
    canaries.status === "lying"
      ? canaries.message
      : ((guard.defences.has("totals")
          ? crossCheckTotals(testRun.results, execution.output, execution.run.truncated)
          : null) ?? (watch ? judgeWatch(watch, execution, testRun.results, guard.oracleFiles) : null));
  const results = strip(testRun.results);
  const guarded: TestRun =
    lie === null
      ? { ...testRun, results }
      : {
          status: "tampered",
          message: lie,
          durationMs: testRun.durationMs,
          outputTail: tail(execution.output),
        };
  return { testRun: guarded, execution, results, canaries, harnessEditsIgnored: ignored, strip };
}

/**
 * The run as a baseline sees it: on the original code the canaries must vouch for the script and parser, or
 * no later run could be told from a faked one.
 */
export function vouchedRun(run: GuardedRun): TestRun {
  const { testRun, canaries } = run;
  if (testRun.status !== "ok" || canaries.status !== "unvouched") return testRun;
  return {
    status: "tampered",
    message: `${canaries.message}; test_script.sh must run the oracle test files' directories and test_parser.py must report every test it ran`,
    durationMs: testRun.durationMs,
    outputTail: tail(run.execution.output),
  };
}
