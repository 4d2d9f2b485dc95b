// Cheap screening of a candidate bug in the proposer's own sandbox: apply, run the suite once, restore.
// Candidates that fail no test or break everything are dropped before the (costly) full validation.
import type { SandboxView } from "../../ports/sandbox.js";
import type { TestResults } from "../../ports/validation.js";
import { shellQuote } from "../../shell-quote.js";
import { runTestSuite } from "../../test-run/index.js";
import { type Candidate, candidateFiles, changedText } from "./candidate.js";
import { restoreFiles, snapshotFiles } from "./file-snapshot.js";

export type ScreenResult =
  | { status: "breaks"; broken: string[]; stillPassing: string[]; durationMs: number }
  | {
      status: "no-effect" | "breaks-everything" | "does-not-apply" | "run-failed";
      reason: string;
      durationMs: number;
    };

export interface SuiteSettings {
  testScript: string;
  testParser: string;
  timeoutMs: number;
  abortSignal?: AbortSignal;
}

/**
 * Removes the bytecode Python cached for `files`: .pyc files record the source's mtime in whole seconds
 * and its size, so a same-size edit written within the same second would otherwise run the stale code.
 */
export async function dropBytecode(sandbox: SandboxView, files: readonly string[]): Promise<void> {
  const python = files.filter((file) => file.endsWith(".py"));
  if (python.length === 0) return;
  const patterns = python.map((file) => {
    const slash = file.lastIndexOf("/");
    const directory = slash < 0 ? "." : file.slice(0, slash);
    const stem = file.slice(slash + 1, -".py".length);
    return `${shellQuote(directory)}/__pycache__/${shellQuote(stem)}.*.pyc`;
  });
  await sandbox.run({ command: `rm -f ${patterns.join(" ")}`, timeoutMs: 30_000 });
}

interface AppliedCandidate {
  restore(): Promise<void>;
}

/** Applies a candidate to the working tree; null when its patch does not apply. */
export async function applyCandidate(
  sandbox: SandboxView,
  candidate: Candidate,
): Promise<AppliedCandidate | null> {
  const change = candidate.change;
  const files = candidateFiles(candidate);
  if (change.kind === "files") {
    for (const file of change.files) await sandbox.writeFile(file.file, changedText(file));
    await dropBytecode(sandbox, files);
    return {
      restore: async () => {
        for (const file of change.files) await sandbox.writeFile(file.file, file.original);
        await dropBytecode(sandbox, files);
      },
    };
  }
  const originals = await snapshotFiles(sandbox, files);
  const applied = await sandbox.applyPatch(change.diff);
  if (applied.status !== "applied") return null;
  await dropBytecode(sandbox, files);
  return {
    restore: async () => {
      await restoreFiles(sandbox, originals);
      await dropBytecode(sandbox, files);
    },
  };
}

/** Baseline-passing tests that do not pass in `results` (a missing test counts as not passing). */
function brokenTests(baselinePassing: readonly string[], results: TestResults): string[] {
  return baselinePassing.filter((id) => results[id] !== "passed");
}

/** Applies, runs, restores; the tree is back to its starting content afterwards whatever happened. */
export async function screenCandidate(
  sandbox: SandboxView,
  candidate: Candidate,
  options: SuiteSettings & { baselinePassing: readonly string[] },
): Promise<ScreenResult> {
  const applied = await applyCandidate(sandbox, candidate);
  if (!applied)
    return {
      status: "does-not-apply",
      reason: "the patch does not apply to the current tree",
      durationMs: 0,
    };
  let run: Awaited<ReturnType<typeof runTestSuite>>;
  try {
    run = await runTestSuite(sandbox, options);
  } finally {
    await applied.restore();
  }
  if (run.status !== "ok")
    return { status: "run-failed", reason: `${run.status}: ${run.message}`, durationMs: run.durationMs };
  const broken = brokenTests(options.baselinePassing, run.results);
  const stillPassing = options.baselinePassing.filter((id) => run.results[id] === "passed");
  if (broken.length === 0)
    return { status: "no-effect", reason: "no baseline-passing test fails", durationMs: run.durationMs };
  if (stillPassing.length === 0)
    return {
      status: "breaks-everything",
      reason: "no baseline-passing test still passes",
      durationMs: run.durationMs,
    };
  return { status: "breaks", broken, stillPassing, durationMs: run.durationMs };
}
