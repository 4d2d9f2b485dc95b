// Check 6, the weakening: with bug + weakening some F2P tests are hidden, and nothing else changes. Every
// P2P test (baseline-passing, still passing with the bug) must still be there and pass, so a weakening
// can neither remove tests the bug does not break nor leave an oracle file that no longer parses or
// collects. Pure: the runs' results in, a verdict with its evidence out.
import type { TestDefinition, TestResults, TestRun } from "../../ports/validation.js";
import { tamperedFailure } from "../harness/verdicts.js";
import { weakeningEffect } from "../test-sets.js";
import { describeFailure, listIds, resultsOf, type Verdict } from "./verdict.js";

export interface WeakeningInput {
  f2p: readonly string[];
  p2p: readonly string[];
  /** Results with the bug alone; null when that run produced none. */
  bugResults: TestResults | null;
  /** Results with bug + weakening; null when that run produced none. */
  weakenedResults: TestResults | null;
  /** Oracle files test_weaken.diff changes. */
  weakenedFiles: readonly string[];
  /** Why the weakened run produced no results, when it did not. */
  runFailure?: string;
  /**
   * A second-order artifact keeps its parent's weakening, made for the parent's bug: a P2P test it removed
   * (missing while its file still collects) was an F2P test of the parent, and may stay removed.
   */
  inheritedWeakening?: boolean;
  /**
   * The definition each located id runs (e.g. "tests/test_x.py:12"), from the test locator on the original
   * oracle files: an inherited method runs its base class's definition under every subclass's id.
   */
  definitions?: ReadonlyMap<string, string>;
}

const MAX_LISTED = 10;

function list(ids: readonly string[]): string {
  return listIds(ids, MAX_LISTED);
}

/** Which definition each id runs, keyed "file:line", from the located definitions of the weakened files. */
export function definitionKeys(
  files: readonly { file: string; definitions: readonly TestDefinition[] | null }[],
): Map<string, string> {
  const keys = new Map<string, string>();
  for (const { file, definitions } of files)
    for (const definition of definitions ?? [])
      for (const id of definition.testIds) keys.set(id, `${file}:${definition.startLine}`);
  return keys;
}

/**
 * The test function an id belongs to: parametrised cases (`test_x[1]`) and Go subtests (`TestX/case`) share
 * their function's key. A weakening may only remove whole functions, so a P2P case of a function that also
 * has an F2P case may go with it; sibling functions, classes and suites may not.
 */
export function testFunctionKey(id: string): string {
  const withoutParameters = id.replace(/\[[^\]]*\]$/, "");
  const separator = withoutParameters.lastIndexOf("::");
  if (separator < 0) return withoutParameters;
  const name = withoutParameters.slice(separator + 2);
  const slash = name.indexOf("/");
  return slash < 0 ? withoutParameters : withoutParameters.slice(0, separator + 2 + slash);
}

/** Test ids that belong to `file`: runners print the file first (`path::name`, `path > suite > case`). */
function idsOfFile(ids: readonly string[], file: string): string[] {
  return ids.filter((id) => id === file || id.startsWith(`${file}::`) || id.startsWith(`${file} > `));
}

export function judgeWeakening(input: WeakeningInput): Verdict {
  const { f2p, p2p, bugResults, weakenedResults } = input;
  const { hidden, stillFailing } = weakeningEffect(f2p, bugResults, weakenedResults);
  const base = {
    hidden,
    stillFailing,
    ...(input.runFailure === undefined ? {} : { message: input.runFailure }),
  };
  if (hidden.length === 0) {
    const why = input.runFailure === undefined ? "" : ` (the test run ${input.runFailure})`;
    return {
      status: "failed",
      reason: `with bug + weakening all ${f2p.length} F2P test(s) still fail${why}; the weakening hides nothing`,
      evidence: base,
    };
  }
  const results = weakenedResults ?? {};
  const f2pFunctions = new Set(f2p.map(testFunctionKey));
  const definitionOf = input.definitions ?? new Map<string, string>();
  const f2pDefinitions = new Set(f2p.flatMap((id) => definitionOf.get(id) ?? []));
  const missing: string[] = [];
  const broken: string[] = [];
  const sameFunction: string[] = [];
  const sameDefinition: string[] = [];
  for (const id of p2p) {
    const status = results[id];
    if (status === "passed") continue;
    if (f2pFunctions.has(testFunctionKey(id))) {
      sameFunction.push(id);
      continue;
    }
    // An id that runs an F2P test's definition (a method inherited by several classes) goes with it.
    const definition = definitionOf.get(id);
    if (status === undefined && definition !== undefined && f2pDefinitions.has(definition)) {
      sameDefinition.push(id);
      continue;
    }
    (status === undefined ? missing : broken).push(id);
  }
  // A weakened file that lost P2P tests and none of whose tests ran any more no longer parses or collects.
  const weakenedIds = Object.keys(results);
  const uncollected = input.weakenedFiles.filter(
    (file) =>
      idsOfFile(missing, file).length > 0 &&
      idsOfFile(weakenedIds, file).every((id) => results[id] === "error"),
  );
  const inherited = input.inheritedWeakening
    ? missing.filter((id) => !uncollected.some((file) => idsOfFile([id], file).length > 0))
    : [];
  if (inherited.length > 0)
    missing.splice(0, missing.length, ...missing.filter((id) => !inherited.includes(id)));
  const evidence = {
    ...base,
    ...(sameFunction.length > 0 ? { removedWithF2pFunction: sameFunction } : {}),
    ...(sameDefinition.length > 0 ? { removedWithF2pDefinition: sameDefinition } : {}),
    ...(inherited.length > 0 ? { removedByInheritedWeakening: inherited } : {}),
  };
  if (missing.length === 0 && broken.length === 0) return { status: "passed", evidence };
  const parts: string[] = [];
  if (uncollected.length > 0)
    parts.push(
      `the weakened oracle file(s) ${uncollected.join(", ")} no longer parse or collect (none of their tests ran)`,
    );
  if (missing.length > 0)
    parts.push(`${missing.length} P2P test(s) the bug does not break are missing: ${list(missing)}`);
  if (broken.length > 0)
    parts.push(
      `${broken.length} P2P test(s) no longer pass: ${list(broken.map((id) => `${id} (${results[id]})`))}`,
    );
  return {
    status: "failed",
    reason: `with bug + weakening ${parts.join("; ")}; a weakening may only hide F2P tests`,
    evidence: { ...evidence, missingP2p: missing, brokenP2p: broken, uncollectedFiles: uncollected },
  };
}

/** The bug+weaken run judged: a tampered run fails the check, any other goes to judgeWeakening. */
export function judgeWeakenedRun(
  run: TestRun,
  input: Omit<WeakeningInput, "weakenedResults" | "runFailure">,
): Verdict {
  if (run.status === "tampered") return tamperedFailure("bug+weaken", run);
  return judgeWeakening({
    ...input,
    weakenedResults: resultsOf(run),
    ...(run.status === "ok" ? {} : { runFailure: describeFailure(run) }),
  });
}
