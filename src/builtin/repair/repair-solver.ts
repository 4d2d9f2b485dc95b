// The built-in repair solver: restore the specification's tests, run them, localise from failures and stack
// traces, then try reverse-operator repairs (each mutation operator undone) at suspicious places within a
// budget of test runs. It sees only what the request gives it (the buggy tree and the specification), never
// the original code.
import type { Logger } from "../../log.js";
import type { PolicyInfo, SolveOutcome, SolveRequest } from "../../ports/policy.js";
import type { SandboxView } from "../../ports/sandbox.js";
import type { TestResults } from "../../ports/validation.js";
import { analyzeSource } from "../code-model/index.js";
import { discoverTests } from "../discovery/index.js";
import { identifiersOf, isCodeFile, loadCodeBase } from "../strategies/code-base.js";
import { filterDiff, splitDiffSections } from "../strategies/diff-sections.js";
import { createEpisodeRecorder, type EpisodeRecorder } from "../strategies/episode-recorder.js";
import { type FileSnapshot, restoreFiles, snapshotFiles } from "../strategies/file-snapshot.js";
import { dropBytecode } from "../strategies/screening.js";
import { createSeededRandom, type SeededRandom } from "../strategies/seeded-random.js";
import { applyTextEdits } from "../strategies/text-edits.js";
import { locateAnywhere } from "../weakening/weaken-tests.js";
import { suspiciousLines } from "./localisation.js";
import {
  afterAcceptedEdit,
  byScore,
  type RepairCandidate,
  rankedRepairs,
  rankFunctions,
  unimplementedSuspect,
} from "./ranking.js";
import { createSuiteRunner, type SuiteRun, type SuiteRunner } from "./suite-runner.js";

interface RepairSettings {
  policy: PolicyInfo;
  /** Test runs per attempt, the first (unrepaired) run included. */
  testRunBudget: number;
  /** Probability that a candidate is left out of an attempt, so attempts with different seeds differ. */
  explorationRate: number;
  /** Limit of each test run. */
  testTimeoutMs: number;
  logger: Logger;
}

function failingTests(results: TestResults): string[] {
  return Object.keys(results)
    .filter((id) => results[id] === "failed" || results[id] === "error")
    .sort();
}

/** The unrepaired state: the first run's failures and passes, the code's text and the ranked repairs. */
interface SearchStart {
  failing: string[];
  passingBefore: string[];
  texts: Map<string, string>;
  candidates: RepairCandidate[];
}

type Stage = { status: "done"; outcome: SolveOutcome } | { status: "ok"; start: SearchStart };

/** One solver attempt: its recorder, its seeded choices, and the files it changed. */
class RepairEpisode {
  private readonly sandbox: SandboxView;
  private readonly log: Logger;
  private readonly recorder: EpisodeRecorder;
  private readonly random: SeededRandom;
  private readonly modified = new Set<string>();
  private readonly specificationFiles: string[];
  private originals: FileSnapshot = new Map();
  private runner: SuiteRunner | null = null;

  constructor(
    private readonly settings: RepairSettings,
    private readonly request: SolveRequest,
  ) {
    this.sandbox = request.sandbox;
    this.log = settings.logger.child("repair");
    this.recorder = createEpisodeRecorder({
      role: "solver",
      policy: settings.policy,
      onStep: request.onStep,
    });
    this.random = createSeededRandom(request.seed).fork("repair");
    this.specificationFiles = splitDiffSections(request.specification).map((part) => part.path);
  }

  async run(): Promise<SolveOutcome> {
    this.originals = await snapshotFiles(this.sandbox, this.specificationFiles);
    const stage = await this.prepare();
    if (stage.status === "done") return stage.outcome;
    return this.search(stage.start);
  }

  private async finish(
    status: "completed" | "failed" | "aborted",
    exitReason: string,
  ): Promise<SolveOutcome> {
    // The specification's tests go back to how the task gave them: the patch holds code changes only.
    await restoreFiles(this.sandbox, this.originals);
    const diff = this.modified.size === 0 ? "" : await this.sandbox.diff();
    const patch = filterDiff(diff, (path) => this.modified.has(path));
    this.log.info("repair finished", {
      seed: this.request.seed,
      exitReason,
      testRuns: this.recorder.episode.stats.testRuns ?? 0,
    });
    return { patch, episode: this.recorder.finish(status, exitReason) };
  }

  private async done(status: "completed" | "failed", exitReason: string): Promise<Stage> {
    return { status: "done", outcome: await this.finish(status, exitReason) };
  }

  private runSuite(): Promise<SuiteRun> {
    this.recorder.count("testRuns");
    return this.runner!.run(this.request.abortSignal);
  }

  /** Applies the specification, discovers and runs the tests, and localises the failures. */
  private async prepare(): Promise<Stage> {
    const { sandbox, recorder } = this;
    const applied = await sandbox.applyPatch(this.request.specification);
    await recorder.step({
      step: "apply-specification",
      status: applied.status,
      files: this.specificationFiles,
    });
    if (applied.status !== "applied") return this.done("failed", "specification-rejected");
    const discovery = await discoverTests(sandbox, { abortSignal: this.request.abortSignal });
    await recorder.step({ step: "discover", status: discovery.status });
    if (discovery.status !== "found") return this.done("failed", "no-tests");
    this.runner = await createSuiteRunner(sandbox, {
      testScript: discovery.testScript,
      testParser: discovery.testParser,
      timeoutMs: this.settings.testTimeoutMs,
    });
    const first = await this.runSuite();
    if (first.status !== "ok") {
      await recorder.step({ step: "run", status: first.status, reason: first.reason });
      return this.done("failed", "test-run-failed");
    }
    const failing = failingTests(first.results);
    await recorder.step({ step: "run", status: "ok", failing, durationMs: first.durationMs });
    if (failing.length === 0) return this.done("completed", "no-failing-tests");
    const testFiles = [...new Set([...discovery.testFiles, ...this.specificationFiles])].sort();
    return this.localise(first, failing, testFiles, discovery.framework);
  }

  /** Localise: names used by the failing tests, and code lines on their stack traces. */
  private async localise(
    first: Extract<SuiteRun, { status: "ok" }>,
    failing: string[],
    testFiles: string[],
    framework: Parameters<typeof locateAnywhere>[1],
  ): Promise<Stage> {
    const testFileSet = new Set(testFiles);
    const codeBase = await loadCodeBase(this.sandbox, { testFiles, abortSignal: this.request.abortSignal });
    const failingNames: Set<string>[] = [];
    for (const id of failing) {
      const location = locateAnywhere(id, framework, codeBase.tests);
      if (location) failingNames.push(identifiersOf(location.testCase.body.text));
    }
    const lines = suspiciousLines(first.output, {
      workdir: this.sandbox.workdir,
      isCodeFile: (path) => isCodeFile(path, testFileSet),
    });
    let ranked = rankFunctions({ code: codeBase.code, failingNames, lines });
    // No test names a code function: fall back to everything the test files mention.
    if (ranked.size === 0)
      ranked = rankFunctions({ code: codeBase.code, failingNames: [codeBase.testIdentifiers], lines });
    const unimplemented = unimplementedSuspect(ranked, lines, failingNames);
    if (unimplemented) {
      // Mutating a stub's one statement cannot rebuild the removed code: the budget is better left unspent.
      await this.recorder.step({
        step: "localise",
        unimplemented: `${unimplemented.file}:${unimplemented.qualifiedName}`,
      });
      return this.done("failed", "unimplemented-function");
    }
    const texts = new Map(codeBase.code.map((file) => [file.path, file.text]));
    const candidates = rankedRepairs({
      ranked,
      lines,
      texts,
      random: this.random,
      explorationRate: this.settings.explorationRate,
    });
    await this.recorder.step({
      step: "localise",
      suspiciousFunctions: byScore(ranked)
        .slice(0, 10)
        .map(([fn, score]) => ({ function: `${fn.file}:${fn.qualifiedName}`, score })),
      suspiciousLines: lines.slice(0, 10),
      candidates: candidates.length,
    });
    const passingBefore = Object.keys(first.results).filter((id) => first.results[id] === "passed");
    return { status: "ok", start: { failing, passingBefore, texts, candidates } };
  }

  /** Tries the repairs best first, keeping each that helps, until no test fails or the budget is spent. */
  private async search(start: SearchStart): Promise<SolveOutcome> {
    const { texts, passingBefore } = start;
    let { failing, candidates } = start;
    const tried = new Set<string>();
    while (
      candidates.length > 0 &&
      (this.recorder.episode.stats.testRuns ?? 0) < this.settings.testRunBudget
    ) {
      if (this.request.abortSignal?.aborted) return this.finish("aborted", "aborted");
      const candidate = candidates.shift()!;
      const before = texts.get(candidate.file)!;
      const after = applyTextEdits(before, [candidate.mutation]);
      const key = `${candidate.file}\0${after}`;
      if (tried.has(key)) continue; // two operators can produce the same text (`not` dropped twice)
      tried.add(key);
      const still = await this.tryRepair(candidate, before, after, failing, passingBefore);
      if (still === null) continue;
      this.recorder.count("accepted");
      this.modified.add(candidate.file);
      texts.set(candidate.file, after);
      failing = failing.filter((id) => still.has(id));
      if (failing.length === 0) return this.finish("completed", "submitted");
      candidates = afterAcceptedEdit(candidates, candidate);
    }
    return this.finish("failed", candidates.length === 0 ? "no-candidate" : "test-run-budget");
  }

  /**
   * Writes a repair and runs the tests; keeps it and returns the tests still failing when it helps,
   * else puts the file back and returns null. An edit that does not parse costs no test run.
   */
  private async tryRepair(
    candidate: RepairCandidate,
    before: string,
    after: string,
    failing: readonly string[],
    passingBefore: readonly string[],
  ): Promise<Set<string> | null> {
    const { sandbox } = this;
    const reparsed = await analyzeSource({ path: candidate.file, text: after });
    if (!reparsed || reparsed.hasSyntaxErrors) return null;
    await sandbox.writeFile(candidate.file, after);
    await dropBytecode(sandbox, [candidate.file]);
    const run = await this.runSuite();
    this.recorder.count("candidatesTried");
    const now = run.status === "ok" ? failingTests(run.results) : null;
    // Better: fewer failures, none new, and every test that passed before is still there and passing.
    // (Failures may vanish: a module that failed to import reports its tests one by one once fixed.)
    const improves =
      now !== null &&
      now.length < failing.length &&
      now.every((id) => failing.includes(id)) &&
      passingBefore.every((id) => run.status === "ok" && run.results[id] === "passed");
    await this.recorder.step({
      step: "try",
      candidate: `${candidate.mutation.description} in ${candidate.file}:${candidate.function}`,
      failing: now?.length ?? null,
      accepted: improves,
    });
    if (improves) return new Set(now);
    await sandbox.writeFile(candidate.file, before);
    await dropBytecode(sandbox, [candidate.file]);
    return null;
  }
}

export function createRepairSolver(settings: RepairSettings): {
  solve(request: SolveRequest): Promise<SolveOutcome>;
} {
  return { solve: (request) => new RepairEpisode(settings, request).run() };
}
