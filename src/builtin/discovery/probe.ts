// What detectors share: the repository's file list and a sandbox to read files and try commands in,
// recording everything looked at.
import type { RunResult, SandboxView } from "../../ports/sandbox.js";
import { shellWord } from "../../shell-quote.js";
import type { ScriptPlan } from "./scripts.js";
import type { DiscoveryOptions, TestFramework, TestLanguage } from "./types.js";

export interface Probe {
  readonly sandbox: SandboxView;
  /** Repository-relative paths of the repository's files (tracked and untracked-not-ignored). */
  readonly files: readonly string[];
  readonly lookedAt: string[];
  readonly options: DiscoveryOptions;
  has(path: string): boolean;
  /** File contents, or null when the file is missing or unreadable. Records the read. */
  read(path: string): Promise<string | null>;
  /** Runs a command from the repository root. Records it with its outcome. */
  run(command: string, options?: { timeoutMs?: number }): Promise<RunResult>;
  /** The files among `paths` whose contents match an extended regular expression (one grep for all). */
  filesContaining(pattern: string, paths: readonly string[]): Promise<string[]>;
}

/** What one detector concluded. */
export type Detection =
  | {
      status: "usable";
      framework: TestFramework;
      language: TestLanguage;
      plan: ScriptPlan;
      testFiles: string[];
    }
  /** `framework` is absent when the runner found is none we support. */
  | { status: "unusable"; framework?: TestFramework; reason: string };

export const IGNORED_DIRECTORIES =
  /(^|\/)(node_modules|\.git|\.venv|venv|\.tox|\.nox|site-packages|dist|build|target|vendor|__pycache__|\.mypy_cache|\.pytest_cache)\//;

export async function createProbe(sandbox: SandboxView, options: DiscoveryOptions): Promise<Probe> {
  const lookedAt: string[] = [];
  const timeoutMs = options.commandTimeoutMs ?? 60_000;
  const run = async (
    command: string,
    runOptions: { timeoutMs?: number; stdin?: string } = {},
  ): Promise<RunResult> => {
    const result = await sandbox.run({
      command,
      stdin: runOptions.stdin,
      timeoutMs: runOptions.timeoutMs ?? timeoutMs,
      maxOutputBytes: 16 * 1024 * 1024,
      abortSignal: options.abortSignal,
    });
    const outcome = result.status === "exited" ? `exit ${result.exitCode}` : result.status;
    lookedAt.push(`ran \`${command}\` (${outcome})`);
    return result;
  };
  const files = await listFiles(run);
  lookedAt.push(`listed ${files.length} repository files`);
  const present = new Set(files);
  return {
    sandbox,
    files,
    lookedAt,
    options,
    has: (path) => present.has(path),
    read: async (path) => {
      if (!present.has(path)) return null;
      lookedAt.push(`read ${path}`);
      try {
        return (await sandbox.readFile(path)).toString("utf8");
      } catch {
        return null;
      }
    },
    run,
    filesContaining: async (pattern, paths) => {
      if (paths.length === 0) return [];
      // Paths go through stdin, so any number of them and any characters in them are safe.
      const result = await run(`xargs -0 grep -lE -e ${shellWord(pattern)} -- 2>/dev/null`, {
        stdin: `${paths.join("\0")}\0`,
      });
      const wanted = new Set(paths);
      return result.stdout.split("\n").filter((path) => wanted.has(path));
    },
  };
}

async function listFiles(run: (command: string) => Promise<RunResult>): Promise<string[]> {
  const git = await run("git ls-files -z --cached --others --exclude-standard");
  let paths: string[];
  if (git.status === "exited" && git.exitCode === 0) paths = git.stdout.split("\0");
  else {
    const found = await run(
      "find . \\( -name .git -o -name node_modules -o -name .venv -o -name target \\) -prune -o -type f -print0 | head -c 16000000",
    );
    paths = found.stdout.split("\0").map((path) => path.replace(/^\.\//, ""));
  }
  return [...new Set(paths.filter((path) => path.length > 0))].sort();
}
