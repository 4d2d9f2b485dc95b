// Check 0 (shape) and the static half of check 1: files present, size caps, diffs parse, paths safe, each
// diff touches only the files it may. The half that needs the real tree (symlinks, existence) runs in a sandbox.
import type { BugArtifact } from "../ports/artifact.js";
import type { SandboxView } from "../ports/sandbox.js";
import { type DiffPart, filePartsOf } from "./diff-parts.js";
import { shippedFile } from "./sandbox-work.js";

/** Size caps: generous for real artifacts, small enough that nobody ships a repository in a diff. */
export const SIZE_CAPS = {
  testScript: 64 * 1024,
  testParser: 256 * 1024,
  diff: 4 * 1024 * 1024,
  testFiles: 5_000,
} as const;

export interface ShapeSummary {
  /** test_files.txt without blank lines. */
  oracleFiles: string[];
  /** Files the bug touches, in the order of the diff. */
  bugFiles: string[];
  /** The bug diff cut per file, for inverse mutations. */
  bugFileDiffs: { file: string; diff: string }[];
  weakenFiles: string[];
  /** Files the weakening touches that test_files.txt does not list. */
  uncoveredWeakenFiles: string[];
}

export type ShapeOutcome =
  | { ok: true; summary: ShapeSummary }
  | { ok: false; failure: { reason: string; evidence: Record<string, unknown> } };

/** Why a repository-relative path is unsafe, or null when it is fine. */
export function unsafePathReason(path: string): string | null {
  if (path === "") return "is empty";
  if (/[\0\n\r]/.test(path)) return "contains a NUL or line break";
  if (path.startsWith("/")) return "is absolute";
  if (/^[A-Za-z]:[\\/]/.test(path) || path.includes("\\")) return "uses backslashes or a drive letter";
  const segments = path.split("/");
  if (segments.includes("..")) return 'climbs out with ".."';
  if (segments.some((segment) => segment === "" || segment === ".")) return "is not normalised";
  if (segments.some((segment) => segment.toLowerCase() === ".git")) return "is inside .git";
  return null;
}

function fail(reason: string, evidence: Record<string, unknown> = {}): ShapeOutcome {
  return { ok: false, failure: { reason, evidence } };
}

function checkDiff(
  name: string,
  diff: string,
): { parts: DiffPart[] } | { reason: string; evidence: Record<string, unknown> } {
  if (diff.trim() === "") return { reason: `${name} is empty`, evidence: { diff: name } };
  if (Buffer.byteLength(diff) > SIZE_CAPS.diff) {
    return { reason: `${name} is larger than ${SIZE_CAPS.diff} bytes`, evidence: { diff: name } };
  }
  const parts = filePartsOf(diff);
  if (parts.length === 0 || !diff.trimStart().startsWith("diff --git ")) {
    return {
      reason: `${name} is not a git diff (it must start with "diff --git")`,
      evidence: { diff: name },
    };
  }
  for (const part of parts) {
    if (part.files.length === 0) {
      return {
        reason: `${name} has a file header that cannot be read: ${part.diff.split("\n")[0]}`,
        evidence: { diff: name },
      };
    }
    for (const file of part.files) {
      const why = unsafePathReason(file);
      if (why)
        return {
          reason: `${name} touches ${JSON.stringify(file)}, which ${why}`,
          evidence: { diff: name, file },
        };
    }
    // A symlink created by a diff could point anywhere; later writes would follow it.
    if (/^(new file mode|new mode) 120000$/m.test(part.diff)) {
      return {
        reason: `${name} creates a symlink at ${part.files.at(-1)}`,
        evidence: { diff: name, file: part.files.at(-1) },
      };
    }
  }
  return { parts };
}

/** Everything of check 0 that needs no repository. */
export function checkShape(artifact: BugArtifact): ShapeOutcome {
  if (artifact.testScript.trim() === "") return fail("test_script.sh is empty");
  if (artifact.testParser.trim() === "") return fail("test_parser.py is empty");
  if (Buffer.byteLength(artifact.testScript) > SIZE_CAPS.testScript) {
    return fail(`test_script.sh is larger than ${SIZE_CAPS.testScript} bytes`);
  }
  if (Buffer.byteLength(artifact.testParser) > SIZE_CAPS.testParser) {
    return fail(`test_parser.py is larger than ${SIZE_CAPS.testParser} bytes`);
  }
  const testFiles = artifact.testFiles.map((line) => line.trim()).filter((line) => line !== "");
  if (testFiles.length === 0) return fail("test_files.txt lists no file");
  if (testFiles.length > SIZE_CAPS.testFiles)
    return fail(`test_files.txt lists more than ${SIZE_CAPS.testFiles} files`);
  for (const file of testFiles) {
    const why = unsafePathReason(file);
    if (why) return fail(`test_files.txt lists ${JSON.stringify(file)}, which ${why}`, { file });
  }
  const bug = checkDiff("bug_inject.diff", artifact.bugInjectDiff);
  if ("reason" in bug) return fail(bug.reason, bug.evidence);
  const weaken = checkDiff("test_weaken.diff", artifact.testWeakenDiff);
  if ("reason" in weaken) return fail(weaken.reason, weaken.evidence);

  const oracle = new Set(testFiles);
  const bugFiles = [...new Set(bug.parts.flatMap((part) => part.files))];
  const touchedOracle = bugFiles.filter((file) => oracle.has(file));
  if (touchedOracle.length > 0) {
    return fail(
      `bug_inject.diff touches oracle test file(s) listed in test_files.txt: ${touchedOracle.join(", ")}`,
      {
        files: touchedOracle,
      },
    );
  }
  const weakenFiles = [...new Set(weaken.parts.flatMap((part) => part.files))];
  return {
    ok: true,
    summary: {
      oracleFiles: testFiles,
      bugFiles,
      // A rename is one part touching two paths; it is reverted as one unit under its new name.
      bugFileDiffs: bug.parts.map((part) => ({ file: part.files.at(-1)!, diff: part.diff })),
      weakenFiles,
      uncoveredWeakenFiles: weakenFiles.filter((file) => !oracle.has(file)),
    },
  };
}

export interface TreeProblems {
  escapes: { path: string; resolved: string }[];
  /** Oracle files that are not regular files in the original tree. */
  missing: string[];
}

/** Resolves every touched and oracle path in the sandbox's current (original) tree. */
export async function checkPathsInSandbox(
  sandbox: SandboxView,
  summary: ShapeSummary,
  testFiles: readonly string[],
  abortSignal?: AbortSignal,
): Promise<TreeProblems> {
  const lines = [
    ...[...summary.bugFiles, ...summary.weakenFiles].map((path) => `touched\t${path}`),
    ...testFiles.map((path) => `oracle\t${path}`),
  ];
  const result = await sandbox.run({
    command: shippedFile("scripts/check-paths.sh"),
    cwd: sandbox.workdir,
    stdin: `${lines.join("\n")}\n`,
    timeoutMs: 60_000,
    abortSignal,
  });
  if (result.status === "aborted") throw abortSignal?.reason ?? new DOMException("aborted", "AbortError");
  if (result.status !== "exited" || result.exitCode !== 0) {
    throw new Error(
      `the path check failed in sandbox ${sandbox.id} (${result.status}): ${result.stderr.trim()}`,
    );
  }
  const problems: TreeProblems = { escapes: [], missing: [] };
  for (const line of result.stdout.split("\n")) {
    const [kind, path, resolved] = line.split("\t");
    if (kind === "escape" && path !== undefined) problems.escapes.push({ path, resolved: resolved ?? "" });
    if (kind === "missing" && path !== undefined) problems.missing.push(path);
  }
  return problems;
}
