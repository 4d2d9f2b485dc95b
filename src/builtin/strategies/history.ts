// History strategy: reverse the code-file part of past commits (fix/bug/issue/error commits first) that
// still applies cleanly to the current tree.
import type { SandboxView } from "../../ports/sandbox.js";
import type { Candidate } from "./candidate.js";
import type { SeededRandom } from "./seeded-random.js";

interface Commit {
  hash: string;
  subject: string;
}

const FIX_WORDS = /\b(fix(e[sd])?|bug|issue|error|crash|wrong|incorrect|regression|broken|repair|correct)/i;
const MAX_COMMITS = 300;
const MAX_DIFF_BYTES = 64 * 1024;

/** Commits of the current branch, newest first, merges left out. */
export async function listCommits(sandbox: SandboxView, abortSignal?: AbortSignal): Promise<Commit[]> {
  const result = await sandbox.run({
    command: `git log --no-merges --format='%H%x09%s' -n ${MAX_COMMITS}`,
    timeoutMs: 60_000,
    abortSignal,
  });
  if (result.status !== "exited" || result.exitCode !== 0) return [];
  return result.stdout
    .split("\n")
    .map((line) => line.split("\t"))
    .filter((parts) => /^[0-9a-f]{40}$/.test(parts[0] ?? ""))
    .map(([hash, ...subject]) => ({ hash: hash!, subject: subject.join("\t") }));
}

/** Fix-like commits first (seeded order within each group). */
export function orderCommits(commits: readonly Commit[], random: SeededRandom): Commit[] {
  const fixes = commits.filter((commit) => FIX_WORDS.test(commit.subject));
  const others = commits.filter((commit) => !FIX_WORDS.test(commit.subject));
  return [...random.shuffle(fixes), ...random.shuffle(others)];
}

/**
 * The reverse of `commit` restricted to code files, as a git diff against the current tree; null when the
 * commit touches no code file, is the root commit, or its reversal is too large to be a bug.
 */
export async function reversedCommit(
  sandbox: SandboxView,
  commit: Commit,
  isCodeFile: (path: string) => boolean,
  abortSignal?: AbortSignal,
): Promise<Candidate | null> {
  const touched = await sandbox.run({
    command: `git diff --name-only --no-renames ${commit.hash}^ ${commit.hash} 2>/dev/null`,
    timeoutMs: 30_000,
    abortSignal,
  });
  if (touched.status !== "exited" || touched.exitCode !== 0) return null;
  const files = touched.stdout
    .split("\n")
    .filter((path) => path.length > 0)
    .filter(isCodeFile);
  if (files.length === 0) return null;
  const quoted = files.map((path) => `'${path.replace(/'/g, "'\\''")}'`).join(" ");
  const diff = await sandbox.run({
    command: `git diff --no-renames --no-color --full-index ${commit.hash} ${commit.hash}^ -- ${quoted}`,
    timeoutMs: 30_000,
    maxOutputBytes: MAX_DIFF_BYTES + 1,
    abortSignal,
  });
  if (diff.status !== "exited" || diff.exitCode !== 0 || diff.truncated || diff.stdout.trim() === "")
    return null;
  if (diff.stdout.length > MAX_DIFF_BYTES) return null;
  return {
    strategy: "history",
    description: `reverted ${commit.hash.slice(0, 10)} "${commit.subject}" in ${files.join(", ")}`,
    change: { kind: "patch", diff: diff.stdout, files },
    operators: ["revert-commit"],
  };
}
