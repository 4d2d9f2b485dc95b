// The built-in repair solver: restore the specification's tests, run them, localise from failures and stack
// traces, then try inverse-mutation repairs at suspicious places within a budget of test runs. It sees
// only what the request gives it (the buggy tree and the specification), never the original code.
import type { Logger } from "../../log.js";
import type { PolicyInfo, SolveOutcome, SolveRequest } from "../../ports/policy.js";
import type { SandboxView } from "../../ports/sandbox.js";
import type { TestResults } from "../../ports/validation.js";
import { analyzeSource, type FunctionInfo, type SourceAnalysis } from "../code-model/index.js";
import { discoverTests } from "../discovery/index.js";
import { identifiersOf, isCodeFile, loadCodeBase } from "../strategies/code-base.js";
import { filterDiff, splitDiffSections } from "../strategies/diff-sections.js";
import { createEpisodeRecorder } from "../strategies/episode-recorder.js";
import type { Mutation } from "../strategies/mutation-operators.js";
import { dropBytecode } from "../strategies/screening.js";
import { createSeededRandom } from "../strategies/seeded-random.js";
import { applyTextEdits } from "../strategies/text-edits.js";
import { locateAnywhere } from "../weakening/weaken-tests.js";
import { consistencyGain, shapeCounts } from "./consistency.js";
import { suspiciousLines } from "./localisation.js";
import { repairsOfFunction } from "./repair-operators.js";
import { createSuiteRunner } from "./suite-runner.js";

export interface RepairSettings {
  policy: PolicyInfo;
  /** Test runs per attempt, the first (unrepaired) run included. */
  testRunBudget: number;
  /** Probability that a candidate is left out of an attempt, so attempts with different seeds differ. */
  explorationRate: number;
  /** Limit of each test run. */
  testTimeoutMs: number;
  logger: Logger;
}

interface RepairCandidate {
  file: string;
  mutation: Mutation;
  function: string;
  score: number;
}

function failingTests(results: TestResults): string[] {
  return Object.keys(results)
    .filter((id) => results[id] === "failed" || results[id] === "error")
    .sort();
}

/** Reads the current content of each path (null when it does not exist), to put it back later. */
async function readOriginals(
  sandbox: SandboxView,
  paths: readonly string[],
): Promise<Map<string, Buffer | null>> {
  const originals = new Map<string, Buffer | null>();
  for (const path of paths) {
    try {
      originals.set(path, await sandbox.readFile(path));
    } catch {
      originals.set(path, null);
    }
  }
  return originals;
}

async function restoreOriginals(sandbox: SandboxView, originals: Map<string, Buffer | null>): Promise<void> {
  const missing: string[] = [];
  for (const [path, content] of originals) {
    if (content === null) missing.push(path);
    else await sandbox.writeFile(path, content);
  }
  if (missing.length > 0) {
    const quoted = missing.map((path) => `'${path.replace(/'/g, "'\\''")}'`).join(" ");
    await sandbox.run({ command: `rm -f ${quoted}`, timeoutMs: 30_000 });
  }
}

const STUB_STATEMENT =
  /^(raise NotImplementedError\b.*|throw new Error\(["'`]not implemented["'`]\);?|unimplemented!\(\)|todo!\(\)|panic\("not implemented"\))$/;

/** A body that does nothing: returns no value, or only passes. */
const NEUTRAL_STATEMENT = /^(return None|return undefined;?|return;?|pass|\.\.\.)$/;

/**
 * What a function's body is when it is nothing but one statement (after a docstring): a "not implemented"
 * stub, a neutral return, or neither.
 */
function stubKind(fn: FunctionInfo): "raises" | "neutral" | null {
  const statements = fn.statements.filter(
    (statement) => statement.depth === 0 && !/^[rRuUbB]?("""|'''|"|')/.test(statement.span.text),
  );
  const only =
    statements.length === 1
      ? statements[0]!.span.text.trim()
      : statements.length === 0
        ? fn.body.text.replace(/^\{|\}$/g, "").trim()
        : null;
  if (only === null) return null;
  if (STUB_STATEMENT.test(only)) return "raises";
  return NEUTRAL_STATEMENT.test(only) ? "neutral" : null;
}

function within(line: number, fn: FunctionInfo): boolean {
  return line >= fn.span.startLine && line <= fn.span.endLine;
}

/** Scores functions by how many failing tests name them and how often stack traces point into them. */
function rankFunctions(options: {
  code: readonly SourceAnalysis[];
  failingNames: readonly Set<string>[];
  lines: readonly { file: string; line: number; score: number }[];
}): Map<FunctionInfo, number> {
  const scores = new Map<FunctionInfo, number>();
  for (const file of options.code) {
    for (const fn of file.functions) {
      if (fn.isTest) continue;
      let score = 0;
      for (const names of options.failingNames) {
        if (
          names.has(fn.name) ||
          (fn.className !== null && names.has(fn.className) && !fn.name.startsWith("_"))
        )
          score += 1;
      }
      for (const line of options.lines) {
        if (line.file === fn.file && line.line >= fn.span.startLine && line.line <= fn.span.endLine)
          score += 1.5 * line.score;
      }
      if (score > 0) scores.set(fn, score);
    }
  }
  return scores;
}

/**
 * How close a candidate's line is to a line the stack traces point at, in [0, 1]: the line itself, or a
 * line just above it (the condition that guards a failing `raise`, the statement before a crash).
 */
function traceProximity(lineScore: ReadonlyMap<string, number>, file: string, line: number): number {
  let best = 0;
  for (let distance = 0; distance <= 2; distance++) {
    const score = lineScore.get(`${file}:${line + distance}`) ?? 0;
    best = Math.max(best, score / (1 + distance));
  }
  return best;
}

export function createRepairSolver(settings: RepairSettings): {
  solve(request: SolveRequest): Promise<SolveOutcome>;
} {
  return {
    async solve(request) {
      const { sandbox, abortSignal } = request;
      const log = settings.logger.child("repair");
      const recorder = createEpisodeRecorder({
        role: "solver",
        policy: settings.policy,
        onStep: request.onStep,
      });
      const random = createSeededRandom(request.seed).fork("repair");
      const modified = new Set<string>();
      const specificationFiles = splitDiffSections(request.specification).map((section) => section.path);
      const originals = await readOriginals(sandbox, specificationFiles);

      const finish = async (
        status: "completed" | "failed" | "aborted",
        exitReason: string,
      ): Promise<SolveOutcome> => {
        // The specification's tests go back to how the task gave them: the patch holds code changes only.
        await restoreOriginals(sandbox, originals);
        const diff = modified.size === 0 ? "" : await sandbox.diff();
        const patch = filterDiff(diff, (path) => modified.has(path));
        log.info("repair finished", {
          seed: request.seed,
          exitReason,
          testRuns: recorder.episode.stats.testRuns ?? 0,
        });
        return { patch, episode: recorder.finish(status, exitReason) };
      };

      const applied = await sandbox.applyPatch(request.specification);
      await recorder.step({ step: "apply-specification", status: applied.status, files: specificationFiles });
      if (applied.status !== "applied") return finish("failed", "specification-rejected");

      const discovery = await discoverTests(sandbox, { abortSignal });
      await recorder.step({ step: "discover", status: discovery.status });
      if (discovery.status !== "found") return finish("failed", "no-tests");
      const testFiles = [...new Set([...discovery.testFiles, ...specificationFiles])].sort();
      const testFileSet = new Set(testFiles);
      const runner = await createSuiteRunner(sandbox, {
        testScript: discovery.testScript,
        testParser: discovery.testParser,
        timeoutMs: settings.testTimeoutMs,
      });
      const runSuite = async () => {
        recorder.count("testRuns");
        return runner.run(abortSignal);
      };

      const first = await runSuite();
      if (first.status !== "ok") {
        await recorder.step({ step: "run", status: first.status, reason: first.reason });
        return finish("failed", "test-run-failed");
      }
      let failing = failingTests(first.results);
      const passingBefore = Object.keys(first.results).filter((id) => first.results[id] === "passed");
      await recorder.step({ step: "run", status: "ok", failing, durationMs: first.durationMs });
      if (failing.length === 0) return finish("completed", "no-failing-tests");

      // Localise: names used by the failing tests, and code lines on their stack traces.
      const codeBase = await loadCodeBase(sandbox, { testFiles, abortSignal });
      const failingNames: Set<string>[] = [];
      for (const id of failing) {
        const location = locateAnywhere(id, discovery.framework, codeBase.tests);
        if (location) failingNames.push(identifiersOf(location.testCase.body.text));
      }
      const lines = suspiciousLines(first.output, {
        workdir: sandbox.workdir,
        isCodeFile: (path) => isCodeFile(path, testFileSet),
      });
      let ranked = rankFunctions({ code: codeBase.code, failingNames, lines });
      if (ranked.size === 0) {
        // No test names a code function: fall back to everything the test files mention.
        ranked = rankFunctions({ code: codeBase.code, failingNames: [codeBase.testIdentifiers], lines });
      }
      const [top] = [...ranked].sort((a, b) => b[1] - a[1]);
      const topStub = top ? stubKind(top[0]) : null;
      const onTrace = top
        ? lines.some((line) => line.file === top[0].file && within(line.line, top[0]))
        : false;
      const namedByFailures = top ? failingNames.some((names) => names.has(top[0].name)) : false;
      if (top && ((topStub === "raises" && onTrace) || (topStub === "neutral" && namedByFailures))) {
        // The failures come from a body that only raises "not implemented" or returns nothing: mutating its
        // one statement cannot rebuild the removed code, so the budget is better left unspent.
        await recorder.step({ step: "localise", unimplemented: `${top[0].file}:${top[0].qualifiedName}` });
        return finish("failed", "unimplemented-function");
      }
      const topLineScore = Math.max(1e-9, ...lines.map((line) => line.score));
      const lineScore = new Map(
        lines.map((line) => [`${line.file}:${line.line}`, line.score / topLineScore]),
      );
      const texts = new Map(codeBase.code.map((file) => [file.path, file.text]));
      const shapes = new Map(codeBase.code.map((file) => [file.path, shapeCounts(file.text)]));
      let candidates: RepairCandidate[] = [];
      for (const [fn, score] of ranked) {
        for (const mutation of repairsOfFunction(fn)) {
          if (random.next() < settings.explorationRate) continue;
          const onTrace = traceProximity(lineScore, fn.file, mutation.line);
          const consistency = consistencyGain(texts.get(fn.file)!, shapes.get(fn.file)!, mutation);
          candidates.push({
            file: fn.file,
            mutation,
            function: fn.qualifiedName,
            // Seeded jitter reorders candidates of similar rank between attempts.
            score: score + 3 * onTrace + 0.75 * consistency + random.next(),
          });
        }
      }
      candidates.sort((a, b) => b.score - a.score);
      await recorder.step({
        step: "localise",
        suspiciousFunctions: [...ranked]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 10)
          .map(([fn, score]) => ({ function: `${fn.file}:${fn.qualifiedName}`, score })),
        suspiciousLines: lines.slice(0, 10),
        candidates: candidates.length,
      });

      const tried = new Set<string>();
      while (candidates.length > 0 && (recorder.episode.stats.testRuns ?? 0) < settings.testRunBudget) {
        if (abortSignal?.aborted) return finish("aborted", "aborted");
        const candidate = candidates.shift()!;
        const before = texts.get(candidate.file)!;
        const after = applyTextEdits(before, [candidate.mutation]);
        const key = `${candidate.file}\0${after}`;
        if (tried.has(key)) continue; // two operators can produce the same text (`not` dropped twice)
        tried.add(key);
        const reparsed = await analyzeSource({ path: candidate.file, text: after });
        if (!reparsed || reparsed.hasSyntaxErrors) continue; // free: no test run for an edit that cannot parse
        await sandbox.writeFile(candidate.file, after);
        await dropBytecode(sandbox, [candidate.file]);
        const run = await runSuite();
        recorder.count("candidatesTried");
        const now = run.status === "ok" ? failingTests(run.results) : null;
        const stillFailing = new Set(now ?? []);
        // Better: fewer failures, none new, and every test that passed before is still there and passing.
        // (Failures may vanish: a module that failed to import reports its tests one by one once fixed.)
        const improves =
          now !== null &&
          now.length < failing.length &&
          now.every((id) => failing.includes(id)) &&
          passingBefore.every((id) => run.status === "ok" && run.results[id] === "passed");
        await recorder.step({
          step: "try",
          candidate: `${candidate.mutation.description} in ${candidate.file}:${candidate.function}`,
          failing: now?.length ?? null,
          accepted: improves,
        });
        if (!improves) {
          await sandbox.writeFile(candidate.file, before);
          await dropBytecode(sandbox, [candidate.file]);
          continue;
        }
        recorder.count("accepted");
        modified.add(candidate.file);
        texts.set(candidate.file, after);
        failing = failing.filter((id) => stillFailing.has(id));
        if (failing.length === 0) return finish("completed", "submitted");
        // Later candidates in the same file move with the accepted edit; overlapping ones are gone.
        const { start, end, replacement } = candidate.mutation;
        const delta = replacement.length - (end - start);
        candidates = candidates.flatMap((other) => {
          if (other.file !== candidate.file || other.mutation.end <= start) return [other];
          if (other.mutation.start < end) return [];
          return [
            {
              ...other,
              mutation: {
                ...other.mutation,
                start: other.mutation.start + delta,
                end: other.mutation.end + delta,
              },
            },
          ];
        });
      }
      return finish("failed", candidates.length === 0 ? "no-candidate" : "test-run-budget");
    },
  };
}
