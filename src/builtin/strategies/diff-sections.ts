// Splits a git diff into its per-file sections, so a policy keeps exactly the files it meant to change
// (test runs may leave other files behind in the tree). Parsing is the artifact module's.

import { splitDiffByFile } from "../../artifact/index.js";
import { InputError } from "../../errors.js";

export interface DiffSection {
  /** Repository-relative path (the new path, or the old one for a deletion). */
  path: string;
  text: string;
}

export function splitDiffSections(diff: string): DiffSection[] {
  const split = splitDiffByFile(diff);
  // The diffs split here come from a sandbox's own git; one that does not parse is a bug, not input.
  if (split.status === "error")
    throw new InputError(
      "diff-unparsable",
      `cannot split a sandbox diff at line ${split.line}: ${split.message}`,
    );
  return split.files.map((file) => ({ path: file.path, text: file.diff }));
}

/** The sections of `diff` whose path satisfies `keep`, joined back into one diff. */
export function filterDiff(diff: string, keep: (path: string) => boolean): string {
  return splitDiffSections(diff)
    .filter((section) => keep(section.path))
    .map((section) => section.text)
    .join("");
}
