// Harness files written at run time: pinning puts the harness back before the run, but code under test can
// write a conftest.py, a plugin, a runner configuration, a .pth file or a module under node_modules while the
// tests run (and start the runner again, or leave it for a later command of the script). Every file the run
// created or changed (its change time is after a mark made just before the script) in a harness location
// makes the run tampered. Caches runners write themselves are not harness.
import { shellQuote } from "../../shell-quote.js";
import { harnessPaths } from "./harness-files.js";

/** Directories runners and interpreters write into on every run, never read as harness. */
const PRUNED = [
  "-path ./.git",
  "-name __pycache__",
  "-name .pytest_cache",
  "-name .mypy_cache",
  "-name .hypothesis",
  "-path '*/node_modules/.cache'",
  "-path '*/node_modules/.vite'",
  "-path '*/node_modules/.vitest'",
  "-path ./target",
];

/** Created by cargo when a crate has none; not read as harness by the run that writes it. */
const WRITTEN_BY_RUNNERS = /(^|\/)Cargo\.lock$/;

/** At most this many changed paths are listed; a run changing more is judged on those. */
const MAX_LISTED = 20_000;

/** Shell lines: the mark, made right before the script. */
export function markBeforeRun(mark: string): string {
  return `: > ${shellQuote(mark)}\n`;
}

/** Shell lines run after the script, from the repository root: the paths changed since the mark, one a line. */
export function listWritesSince(mark: string): string {
  return `find . \\( ${PRUNED.join(" -o ")} \\) -prune -o \\( -type f -o -type l \\) -cnewer ${shellQuote(mark)} -print 2>/dev/null | head -n ${MAX_LISTED}\n`;
}

/**
 * A script that installs packages as it runs (npm, pip) rewrites node_modules or site-packages on every run,
 * the original code's too: when an installer's own record is among the writes, those trees are its.
 */
const INSTALLERS: readonly { record: RegExp; tree: RegExp }[] = [
  {
    record: /(^|\/)node_modules\/\.(package-lock\.json|yarn-integrity|modules\.yaml)$/,
    tree: /(^|\/)node_modules\/|(^|\/)package(-lock)?\.json$/,
  },
  { record: /\.dist-info\/RECORD$/, tree: /(^|\/)site-packages\// },
];

/** A message naming the harness files the run wrote, else null. */
export function judgeRunWrites(listing: string, oracleFiles: readonly string[]): string | null {
  let paths = listing
    .split("\n")
    .map((line) => line.replace(/^\.\//, "").trim())
    .filter((path) => path !== "" && !WRITTEN_BY_RUNNERS.test(path));
  for (const installer of INSTALLERS)
    if (paths.some((path) => installer.record.test(path)))
      paths = paths.filter((path) => !installer.tree.test(path));
  const harness = harnessPaths(paths, oracleFiles);
  if (harness.length === 0) return null;
  const shown = harness.slice(0, 5).join(", ");
  const more = harness.length > 5 ? ` and ${harness.length - 5} more` : "";
  return `the run itself wrote harness file(s) ${shown}${more} while the tests ran`;
}
