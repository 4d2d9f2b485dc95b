// Which functions and which repairs to try first: functions named by failing tests or on their stack
// traces, repairs near the traced lines and consistent with the rest of the file; and whether the top
// suspect is a stub that no single edit can rebuild.
import type { FunctionInfo, SourceAnalysis } from "../code-model/index.js";
import type { Mutation } from "../strategies/mutation-operators.js";
import type { SeededRandom } from "../strategies/seeded-random.js";
import { consistencyGain, shapeCounts } from "./consistency.js";
import type { SuspiciousLine } from "./localisation.js";
import { repairsOfFunction } from "./repair-operators.js";

export interface RepairCandidate {
  file: string;
  mutation: Mutation;
  function: string;
  score: number;
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
export function rankFunctions(options: {
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

/** The functions by score, highest first. */
export function byScore(ranked: ReadonlyMap<FunctionInfo, number>): [FunctionInfo, number][] {
  return [...ranked].sort((a, b) => b[1] - a[1]);
}

/**
 * The top suspect, when the failures come from a body that only raises "not implemented" (and a trace
 * points into it, or a failing test names it: Go's failures print no trace into the code) or returns
 * nothing (and a failing test names it): mutating its one statement cannot rebuild the removed code.
 */
export function unimplementedSuspect(
  ranked: ReadonlyMap<FunctionInfo, number>,
  lines: readonly SuspiciousLine[],
  failingNames: readonly Set<string>[],
): FunctionInfo | null {
  const [top] = byScore(ranked);
  if (!top) return null;
  const [fn] = top;
  const stub = stubKind(fn);
  const onTrace = lines.some((line) => line.file === fn.file && within(line.line, fn));
  const namedByFailures = failingNames.some((names) => names.has(fn.name));
  return (stub === "raises" && (onTrace || namedByFailures)) || (stub === "neutral" && namedByFailures)
    ? fn
    : null;
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

/**
 * Every repair of the ranked functions, best first; each is left out with probability `explorationRate`,
 * and seeded jitter reorders candidates of similar rank between attempts.
 */
export function rankedRepairs(options: {
  ranked: ReadonlyMap<FunctionInfo, number>;
  lines: readonly SuspiciousLine[];
  texts: ReadonlyMap<string, string>;
  random: SeededRandom;
  explorationRate: number;
}): RepairCandidate[] {
  const { lines, texts, random } = options;
  const topLineScore = Math.max(1e-9, ...lines.map((line) => line.score));
  const lineScore = new Map(lines.map((line) => [`${line.file}:${line.line}`, line.score / topLineScore]));
  const shapes = new Map([...texts].map(([path, text]) => [path, shapeCounts(text)]));
  const candidates: RepairCandidate[] = [];
  for (const [fn, score] of options.ranked) {
    for (const mutation of repairsOfFunction(fn)) {
      if (random.next() < options.explorationRate) continue;
      const onTrace = traceProximity(lineScore, fn.file, mutation.line);
      const consistency = consistencyGain(texts.get(fn.file)!, shapes.get(fn.file)!, mutation);
      candidates.push({
        file: fn.file,
        mutation,
        function: fn.qualifiedName,
        score: score + 3 * onTrace + 0.75 * consistency + random.next(),
      });
    }
  }
  return candidates.sort((a, b) => b.score - a.score);
}

/** Later candidates in the same file moved by an accepted edit; those overlapping it are gone. */
export function afterAcceptedEdit(
  candidates: readonly RepairCandidate[],
  accepted: RepairCandidate,
): RepairCandidate[] {
  const { start, end, replacement } = accepted.mutation;
  const delta = replacement.length - (end - start);
  return candidates.flatMap((other) => {
    if (other.file !== accepted.file || other.mutation.end <= start) return [other];
    if (other.mutation.start < end) return [];
    return [
      {
        ...other,
        mutation: { ...other.mutation, start: other.mutation.start + delta, end: other.mutation.end + delta },
      },
    ];
  });
}
