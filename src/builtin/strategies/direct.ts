// Direct strategy: one mutation operator applied at an exact code-model range in a function the tests
// exercise (comparison/boolean flips, arithmetic swaps, off-by-one, swapped arguments, …).

import { type Candidate, siteOf } from "./candidate.js";
import type { CodeBase } from "./code-base.js";
import { exercisedFunctions } from "./code-base.js";
import { INVERTIBLE_OPERATORS, mutationsOfFunction } from "./mutation-operators.js";
import type { SeededRandom } from "./seeded-random.js";

/** Single-file direct candidates in seeded order: named functions first, mostly invertible operators. */
export function directCandidates(codeBase: CodeBase, random: SeededRandom): Candidate[] {
  const texts = new Map(codeBase.code.map((file) => [file.path, file.text]));
  const entries: { candidate: Candidate; rank: number }[] = [];
  for (const { fn, weight } of exercisedFunctions(codeBase)) {
    const text = texts.get(fn.file);
    if (text === undefined) continue;
    for (const mutation of mutationsOfFunction(fn)) {
      // Removed statements and neutral returns stay possible, but after the operators a solver can undo.
      const invertible = INVERTIBLE_OPERATORS.has(mutation.operator);
      entries.push({
        rank: weight + (invertible ? 1 : 0) + random.next() * 1.5,
        candidate: {
          strategy: "direct",
          description: `${mutation.description} in ${fn.file}:${fn.qualifiedName}`,
          change: { kind: "files", files: [{ file: fn.file, original: text, edits: [mutation] }] },
          operators: [mutation.operator],
          site: siteOf(fn, weight),
        },
      });
    }
  }
  return entries.sort((a, b) => b.rank - a.rank).map((entry) => entry.candidate);
}
