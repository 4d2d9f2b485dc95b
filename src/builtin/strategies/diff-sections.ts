// A sandbox's diff cut into its per-file parts, so a policy keeps exactly the files it meant to change
// (test runs may leave other files behind in the tree). Parsing is the artifact module's.

import { type DiffPart, splitDiffByFile } from "../../artifact/index.js";
import { InputError } from "../../errors.js";

export function splitDiffSections(diff: string): DiffPart[] {
  const split = splitDiffByFile(diff);
  // The diffs split here come from a sandbox's own git; one that does not parse is a bug, not input.
  if (split.status === "error")
    throw new InputError(
      "diff-unparsable",
      `cannot split a sandbox diff at line ${split.line}: ${split.message}`,
    );
  return split.files;
}

/** The parts of `diff` whose path satisfies `keep`, joined back into one diff. */
export function filterDiff(diff: string, keep: (path: string) => boolean): string {
  return splitDiffSections(diff)
    .filter((part) => keep(part.path))
    .map((part) => part.diff)
    .join("");
}
