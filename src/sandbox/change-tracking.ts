// Change tracking for sandbox working trees: git with its own GIT_DIR outside the sandbox, hardened so
// that running git over an untrusted tree executes nothing from it. Backends supply a GitRunner.

import { InfrastructureError } from "../errors.js";
import type { ApplyResult } from "../ports/sandbox.js";

export interface GitOutcome {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs git and touches a few files in whatever filesystem holds the tracking repository: the host for the
 * local backend, a container for the Docker backend. Paths given to it are paths in that filesystem.
 */
export interface GitRunner {
  /** Runs `git ARGS` with exactly the given environment on top of a clean one (PATH only), from `cwd`. */
  git(
    args: readonly string[],
    options: { env: Record<string, string>; cwd: string; stdin?: string | Buffer },
  ): Promise<GitOutcome>;
  writeFile(path: string, content: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
}

/** Where the tracking repository lives and which tree it watches. */
export interface TrackingLocation {
  /** Our own git directory; never the repository's own .git and never visible inside the sandbox. */
  gitDir: string;
  /** The working tree (the sandbox's /testbed as seen by the runner). */
  workTree: string;
}

/** Paths ignored on top of the repository's own .gitignore files: caches that test runs leave behind. */
export const DEFAULT_IGNORES: readonly string[] = [
  "__pycache__/",
  "*.py[co]",
  ".pytest_cache/",
  ".mypy_cache/",
  ".ruff_cache/",
  ".hypothesis/",
];

// Highest-precedence attributes: no filters, no ident expansion, no line-ending or encoding conversion,
// whatever the tree's own .gitattributes says. Binary detection stays automatic.
const NEUTRAL_ATTRIBUTES = "* -text -ident -filter -working-tree-encoding !eol !diff !merge\n";

// Written as the repository config so that nothing from the host's or the tree's configuration applies.
const HARDENED_CONFIG = `[core]
\trepositoryformatversion = 0
\tbare = false
\tfilemode = true
\tsymlinks = true
\tignorecase = false
\tprecomposeunicode = false
\tautocrlf = false
\tsafecrlf = false
\thooksPath = /dev/null
\tfsmonitor = false
\tuntrackedCache = false
\tcheckStat = minimal
\ttrustctime = false
\tpreloadIndex = true
\tquotePath = true
[gc]
\tauto = 0
[diff]
\trenames = true
\tnoprefix = false
\tmnemonicPrefix = false
\texternal =
[color]
\tui = false
[advice]
\taddIgnoredFile = false
\taddEmbeddedRepo = false
[protocol]
\tallow = never
[safe]
\tdirectory = *
`;

/** Environment for every git call: nothing from the host's configuration, hooks or attributes. */
export function hardenedGitEnvironment(
  location: TrackingLocation,
  indexFile: string,
): Record<string, string> {
  return {
    GIT_DIR: location.gitDir,
    GIT_WORK_TREE: location.workTree,
    GIT_INDEX_FILE: indexFile,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ATTR_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_OPTIONAL_LOCKS: "0",
    HOME: location.gitDir,
    XDG_CONFIG_HOME: location.gitDir,
    LC_ALL: "C",
  };
}

export class ChangeTracker {
  constructor(
    readonly runner: GitRunner,
    readonly location: TrackingLocation,
  ) {}

  /** Creates the tracking repository (idempotent: `git init` on an existing one only rewrites our files). */
  async initialize(ignores: readonly string[] = DEFAULT_IGNORES): Promise<void> {
    // Writing our files first creates the directory (git init creates only the last path component).
    const writeOurFiles = async () => {
      await this.runner.writeFile(`${this.location.gitDir}/info/attributes`, NEUTRAL_ATTRIBUTES);
      await this.runner.writeFile(`${this.location.gitDir}/info/exclude`, `${ignores.join("\n")}\n`);
    };
    await writeOurFiles();
    await this.git(["init", "--quiet"], `${this.location.gitDir}/index`);
    await this.runner.writeFile(`${this.location.gitDir}/config`, HARDENED_CONFIG);
    await writeOurFiles();
  }

  /**
   * Records the working tree into `indexFile` (reusing its cached stat data, so unchanged files are not
   * hashed again) and returns the tree id.
   */
  async stage(indexFile: string): Promise<string> {
    await this.git(["add", "--all", "--", "."], indexFile);
    const tree = await this.git(["write-tree"], indexFile);
    return tree.stdout.toString("utf8").trim();
  }

  /** Git-format diff between two trees: binary, renames, modes, new and deleted files, full hashes. */
  async diffTrees(from: string, to: string, indexFile: string): Promise<string> {
    if (from === to) return "";
    const outcome = await this.git(
      [
        "diff-tree",
        "-r",
        "-p",
        "--binary",
        "--full-index",
        "-M",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        from,
        to,
      ],
      indexFile,
    );
    return outcome.stdout.toString("utf8");
  }

  /**
   * Applies a git-format diff to the working tree only. git apply is atomic, refuses paths outside the tree
   * and paths through symbolic links; a failure becomes a "rejected" result naming the file and hunk.
   */
  async apply(diff: string, indexFile: string): Promise<ApplyResult> {
    if (diff.trim() === "") return { status: "applied", files: [] };
    const outcome = await this.runner.git(["apply", "--whitespace=nowarn", "-"], {
      env: hardenedGitEnvironment(this.location, indexFile),
      cwd: this.location.workTree,
      stdin: diff.endsWith("\n") ? diff : `${diff}\n`,
    });
    if (outcome.exitCode === 0) return { status: "applied", files: filesOfDiff(diff) };
    return describeRejection(diff, outcome.stderr);
  }

  private async git(args: readonly string[], indexFile: string): Promise<GitOutcome> {
    const outcome = await this.runner.git(args, {
      env: hardenedGitEnvironment(this.location, indexFile),
      cwd: this.location.workTree,
    });
    if (outcome.exitCode !== 0) {
      throw new InfrastructureError(
        "change-tracking-failed",
        `git ${args.join(" ")} failed (exit ${outcome.exitCode}) in ${this.location.workTree}: ${outcome.stderr.trim()}`,
        { data: { args, gitDir: this.location.gitDir, workTree: this.location.workTree } },
      );
    }
    return outcome;
  }
}

/** Paths a git-format diff touches (both sides of renames), in order of appearance. */
export function filesOfDiff(diff: string): string[] {
  const files = new Set<string>();
  for (const line of diff.split("\n")) {
    const side = line.match(/^(?:---|\+\+\+) (.+?)\t?$/);
    if (side) {
      const path = unquote(side[1]!);
      if (path !== "/dev/null") files.add(stripSidePrefix(path));
      continue;
    }
    const rename = line.match(/^rename (?:from|to) (.+)$/);
    if (rename) {
      files.add(unquote(rename[1]!));
      continue;
    }
    const header = line.match(/^diff --git (.+)$/);
    const sides = header ? splitGitHeader(header[1]!) : null;
    if (sides) for (const path of sides) files.add(stripSidePrefix(path));
  }
  return [...files];
}

function stripSidePrefix(path: string): string {
  return path.replace(/^[ab]\//, "");
}

/** Splits "a/x b/x" (or quoted forms) into its two paths; null when ambiguous. */
function splitGitHeader(header: string): [string, string] | null {
  if (header.startsWith('"')) {
    const end = closingQuote(header, 0);
    if (end < 0) return null;
    const rest = header.slice(end + 2);
    return [unquote(header.slice(0, end + 1)), unquote(rest)];
  }
  if (header.endsWith('"')) {
    const start = header.lastIndexOf(' "');
    if (start < 0) return null;
    return [header.slice(0, start), unquote(header.slice(start + 1))];
  }
  // Unquoted: both sides are equal except for the prefix when the path has no rename.
  const half = (header.length - 1) / 2;
  if (Number.isInteger(half) && header[half] === " ") {
    const left = header.slice(0, half);
    const right = header.slice(half + 1);
    if (stripSidePrefix(left) === stripSidePrefix(right)) return [left, right];
  }
  return null;
}

function closingQuote(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index++) {
    if (text[index] === "\\") index++;
    else if (text[index] === '"') return index;
  }
  return -1;
}

/** Undoes git's C-style path quoting ("a/t\303\244st" → a/täst). */
export function unquote(path: string): string {
  if (!(path.startsWith('"') && path.endsWith('"'))) return path;
  const bytes: number[] = [];
  const body = path.slice(1, -1);
  const escapes: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '"': 34, "\\": 92 };
  for (let index = 0; index < body.length; index++) {
    const character = body[index]!;
    if (character !== "\\") {
      bytes.push(...Buffer.from(character, "utf8"));
      continue;
    }
    const next = body[index + 1] ?? "";
    const octal = body.slice(index + 1, index + 4);
    if (/^[0-7]{3}$/.test(octal)) {
      bytes.push(Number.parseInt(octal, 8));
      index += 3;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
      index += 1;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Turns git apply's complaint into data naming the file and, when git names a line, the hunk. */
export function describeRejection(diff: string, stderr: string): ApplyResult {
  const errors = stderr
    .split("\n")
    .filter((line) => line.startsWith("error: ") || line.startsWith("fatal: "))
    .map((line) => line.replace(/^(?:error|fatal): /, ""));
  const failed = stderr.match(/error: patch failed: (.+):(\d+)\s*$/m);
  if (failed) {
    const file = failed[1]!;
    const line = Number(failed[2]);
    const hunk = hunkAtLine(diff, file, line);
    const where = hunk === undefined ? `at line ${line}` : `hunk #${hunk} at line ${line}`;
    return { status: "rejected", message: `${file}: ${where} does not apply`, file, hunk };
  }
  const named = errors.map((line) =>
    line.match(
      /^(?:[^:]*: )?(.+?): (?:does not exist|already exists|.*beyond a symbolic link|.*not apply|.*No such file)/,
    ),
  );
  const file = named.find((match) => match)?.[1];
  const message = errors.length > 0 ? errors.join("; ") : stderr.trim() || "git apply failed";
  return file === undefined ? { status: "rejected", message } : { status: "rejected", message, file };
}

/** 1-based number of the hunk of `file` whose old range starts at `line`. */
function hunkAtLine(diff: string, file: string, line: number): number | undefined {
  let inFile = false;
  let count = 0;
  for (const text of diff.split("\n")) {
    if (text.startsWith("diff --git ")) {
      const sides = splitGitHeader(text.slice("diff --git ".length));
      inFile = sides?.some((side) => stripSidePrefix(side) === file) ?? false;
      count = 0;
      continue;
    }
    if (!inFile) continue;
    const header = text.match(/^@@ -(\d+)(?:,(\d+))? /);
    if (!header) continue;
    count++;
    const start = Number(header[1]);
    if (start === line || (start === 0 && line <= 1)) return count;
  }
  return undefined;
}

/**
 * One sandbox's change-tracking state: the tree diff() compares against, and diff, apply and snapshot
 * run one at a time, since they share the sandbox's index file.
 */
export class TrackedTree {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly tracker: ChangeTracker,
    private readonly indexFile: string,
    private startTree: string,
  ) {}

  diff(): Promise<string> {
    return this.serialized(async () => {
      const tree = await this.tracker.stage(this.indexFile);
      return this.tracker.diffTrees(this.startTree, tree, this.indexFile);
    });
  }

  applyPatch(diff: string): Promise<ApplyResult> {
    return this.serialized(() => this.tracker.apply(diff, this.indexFile));
  }

  snapshot(): Promise<void> {
    return this.serialized(async () => {
      this.startTree = await this.tracker.stage(this.indexFile);
    });
  }

  /** Resolves when every queued operation has ended, whatever its outcome. */
  async settled(): Promise<void> {
    await this.queue;
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
