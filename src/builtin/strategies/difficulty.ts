// The difficulty level of a built-in candidate bug (levels in src/ports/artifact.ts): what its change is
// (one token, a mutation, a block, a body, a commit, two files), how short its function is, and whether a
// test it breaks calls that function by name, so the solver sees the culprit in the hidden test.
import type { Difficulty } from "../../ports/artifact.js";
import type { SourceAnalysis, TestFramework } from "../code-model/index.js";
import { locateAnywhere } from "../weakening/weaken-tests.js";
import type { Candidate } from "./candidate.js";
import { identifiersOf } from "./code-base.js";
import type { OperatorName } from "./mutation-operators.js";

/** Functions of at most this many lines count as short (level 1). */
export const SHORT_FUNCTION_LINES = 15;

/** Operators that change exactly one token, which a solver undoes by changing it back. */
const ONE_TOKEN_OPERATORS: ReadonlySet<string> = new Set<OperatorName>([
  "comparison-flip",
  "boolean-flip",
  "arithmetic-swap",
  "off-by-one",
  "boolean-literal",
  "remove-negation",
]);

/** Whether a candidate may be of level 1 before it is screened (the test that calls it is known after). */
function mayBeEasiest(candidate: Candidate): boolean {
  const site = candidate.site;
  return (
    candidate.strategy === "direct" &&
    site !== undefined &&
    site.named &&
    site.lines <= SHORT_FUNCTION_LINES &&
    candidate.operators.length === 1 &&
    ONE_TOKEN_OPERATORS.has(candidate.operators[0]!)
  );
}

/** The level a candidate has by its change alone, the easiest it can still turn out to be. */
export function staticDifficulty(candidate: Candidate): Difficulty {
  if (candidate.change.kind === "patch" || candidate.change.files.length > 1) return 4;
  if (candidate.strategy === "direct") return mayBeEasiest(candidate) ? 1 : 2;
  return candidate.operators.includes("remove-block") ? 3 : 4;
}

/** Whether screening the candidate can still give `wanted` (so it is worth a test run). */
export function mayHaveDifficulty(candidate: Candidate, wanted: Difficulty): boolean {
  const level = staticDifficulty(candidate);
  return level === wanted || (level === 1 && wanted === 2);
}

/** Whether one of the `broken` tests' own source names the candidate's function. */
export function calledByBrokenTest(
  candidate: Candidate,
  broken: readonly string[],
  tests: { framework: TestFramework; files: readonly SourceAnalysis[] },
): boolean {
  const name = candidate.site?.name;
  if (name === undefined) return false;
  return broken.some((testId) => {
    const location = locateAnywhere(testId, tests.framework, tests.files);
    return location !== null && identifiersOf(location.span.text).has(name);
  });
}

/** The level of a screened candidate that broke `broken`. */
export function screenedDifficulty(
  candidate: Candidate,
  broken: readonly string[],
  tests: { framework: TestFramework; files: readonly SourceAnalysis[] },
): Difficulty {
  const level = staticDifficulty(candidate);
  if (level !== 1) return level;
  return calledByBrokenTest(candidate, broken, tests) ? 1 : 2;
}
