// Static safety of a diff before anything applies it: paths stay inside the repository (no absolute
// paths, "..", .git, or symlinks leading out), modes are plain files / executables / symlinks, sizes stay
// under caps, and the diff touches only what its role allows (code vs oracle test files).
// Every violation names the artifact file and the diff line.
import { posix } from "node:path";
import { type FileDiff, filePaths, parseDiff } from "./diff-parse.js";

export type DiffViolationRule =
  | "malformed"
  | "too-large"
  | "too-many-files"
  | "empty-path"
  | "unsafe-characters"
  | "absolute-path"
  | "parent-directory"
  | "git-directory"
  | "odd-mode"
  | "symlink-escape"
  | "through-symlink"
  | "oracle-file"
  | "outside-oracle";

export interface DiffViolation {
  rule: DiffViolationRule;
  /** The artifact file holding the diff, e.g. "bug_inject.diff". */
  artifactFile: string;
  /** 1-based line of the diff the violation is about. */
  line: number;
  path: string | null;
  /** "<artifact file> line <n>: <path>: <what is wrong>". */
  message: string;
}

export type DiffSafetyResult =
  | { status: "safe"; files: string[] }
  | { status: "unsafe"; violations: DiffViolation[] };

export interface DiffSafetyLimits {
  /** Whole diff, bytes. */
  maxDiffBytes: number;
  /** Content one file may add (text lines or binary literal size), bytes. */
  maxFileBytes: number;
  /** Number of files in the diff. */
  maxFiles: number;
}

const DEFAULT_DIFF_LIMITS: DiffSafetyLimits = {
  maxDiffBytes: 4 * 1024 * 1024,
  maxFileBytes: 1024 * 1024,
  maxFiles: 200,
};

/** Symlinks present in the repository tree: repository-relative path → target as stored in the link. */
export type TreeSymlinks = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface DiffSafetyOptions {
  /** Name used in messages (default "diff"). */
  artifactFile?: string;
  /**
   * The diff's role: "code" may not touch any oracle test file (bug_inject.diff); "oracle" may touch
   * nothing else (test_weaken.diff). Without it, no role check is made.
   */
  role?: { kind: "code" | "oracle"; oracleFiles: readonly string[] };
  symlinks?: TreeSymlinks;
  limits?: Partial<DiffSafetyLimits>;
}

const ALLOWED_MODES = new Set(["100644", "100755", "120000"]);
const SYMLINK_MODE = "120000";

/** Why a repository-relative path is unsafe, or null. Shared with test_files.txt checks. */
export function unsafePath(path: string): { rule: DiffViolationRule; reason: string } | null {
  if (path === "") return { rule: "empty-path", reason: "the path is empty" };
  if (/[\x00-\x1f\x7f\\]/.test(path)) {
    return { rule: "unsafe-characters", reason: "the path contains a control character or a backslash" };
  }
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path))
    return { rule: "absolute-path", reason: "the path is absolute" };
  const segments = path.split("/");
  if (segments.includes("..")) return { rule: "parent-directory", reason: 'the path goes up with ".."' };
  if (segments.some((segment) => segment === "" || segment === ".")) {
    return { rule: "unsafe-characters", reason: 'the path has an empty or "." segment' };
  }
  if (segments.some((segment) => segment.toLowerCase() === ".git")) {
    return { rule: "git-directory", reason: "the path is inside .git" };
  }
  return null;
}

/** True when a link stored at `linkPath` with `target` resolves outside the repository. */
export function symlinkLeavesRepository(linkPath: string, target: string): boolean {
  if (target.startsWith("/") || target === "") return true;
  const resolved = posix.normalize(posix.join(posix.dirname(linkPath), target));
  return resolved === ".." || resolved.startsWith("../");
}

function toMap(symlinks: TreeSymlinks | undefined): Map<string, string> {
  if (!symlinks) return new Map();
  return symlinks instanceof Map ? new Map(symlinks) : new Map(Object.entries(symlinks));
}

/** The target a diff gives a symlink, read from the added line of its hunk. */
function symlinkTarget(file: FileDiff): string | null {
  const added = file.hunks.flatMap((hunk) => hunk.lines.filter((line) => line.kind === "added"));
  return added.length > 0 ? added.map((line) => line.text).join("\n") : null;
}

function addedBytes(file: FileDiff): number {
  if (file.binary?.kind === "patch") {
    const size = /^(?:literal|delta) (\d+)$/.exec(file.binary.patch.forward[0] ?? "");
    return size ? Number(size[1]) : 0;
  }
  let bytes = 0;
  for (const hunk of file.hunks) {
    for (const line of hunk.lines) if (line.kind === "added") bytes += Buffer.byteLength(line.text) + 1;
  }
  return bytes;
}

type Report = (rule: DiffViolationRule, line: number, path: string | null, reason: string) => void;

export function checkDiffSafety(diff: string, options: DiffSafetyOptions = {}): DiffSafetyResult {
  const artifactFile = options.artifactFile ?? "diff";
  const limits = { ...DEFAULT_DIFF_LIMITS, ...options.limits };
  const violations: DiffViolation[] = [];
  const report: Report = (rule, line, path, reason) => {
    violations.push({
      rule,
      artifactFile,
      line,
      path,
      message: `${artifactFile} line ${line}: ${path === null ? "" : `${path}: `}${reason}`,
    });
  };

  const size = Buffer.byteLength(diff);
  if (size > limits.maxDiffBytes) {
    report("too-large", 1, null, `the diff is ${size} bytes, over the cap of ${limits.maxDiffBytes}`);
    return { status: "unsafe", violations };
  }
  const parsed = parseDiff(diff);
  if (parsed.status === "error") {
    report("malformed", parsed.line, null, parsed.message);
    return { status: "unsafe", violations };
  }
  if (parsed.files.length > limits.maxFiles) {
    report(
      "too-many-files",
      1,
      null,
      `the diff touches ${parsed.files.length} files, over the cap of ${limits.maxFiles}`,
    );
  }
  const symlinks = symlinksAfter(parsed.files, options.symlinks);
  const role = options.role && { kind: options.role.kind, oracle: new Set(options.role.oracleFiles) };
  const touched: string[] = [];
  for (const file of parsed.files) {
    const pathsSafe = checkPaths(file, report);
    checkModes(file, report);
    const bytes = addedBytes(file);
    if (bytes > limits.maxFileBytes) {
      report(
        "too-large",
        file.line,
        file.newPath ?? file.oldPath,
        `adds ${bytes} bytes, over the cap of ${limits.maxFileBytes}`,
      );
    }
    const paths = filePaths(file);
    for (const path of paths) if (!touched.includes(path)) touched.push(path);
    if (!pathsSafe) continue;
    checkSymlinks(file, paths, symlinks, report);
    if (role) checkRole(file, paths, role, report);
  }
  return violations.length === 0 ? { status: "safe", files: touched } : { status: "unsafe", violations };
}

/** Symlinks as they are after the diff: the tree's, minus deleted ones, plus created or changed ones. */
function symlinksAfter(files: readonly FileDiff[], tree: TreeSymlinks | undefined): Map<string, string> {
  const symlinks = toMap(tree);
  for (const file of files) {
    const previous = file.oldPath === null ? undefined : symlinks.get(file.oldPath);
    if (file.oldPath !== null && file.change !== "copied" && file.change !== "modified")
      symlinks.delete(file.oldPath);
    const staysLink = previous !== undefined && file.newMode === null;
    if (file.newPath !== null && (file.newMode === SYMLINK_MODE || staysLink)) {
      symlinks.set(file.newPath, symlinkTarget(file) ?? previous ?? "");
    } else if (file.newPath !== null && file.newMode !== null) {
      symlinks.delete(file.newPath);
    }
  }
  return symlinks;
}

/** Reports every unsafe path the file's headers mention; true when all are safe. */
function checkPaths(file: FileDiff, report: Report): boolean {
  let pathsSafe = true;
  for (const mention of file.mentions) {
    const problem = unsafePath(mention.path);
    if (problem) {
      pathsSafe = false;
      report(problem.rule, mention.line, mention.path, `${problem.reason} (${mention.source})`);
    }
  }
  return pathsSafe;
}

function checkModes(file: FileDiff, report: Report): void {
  for (const mode of [file.oldMode, file.newMode, file.index?.mode ?? null]) {
    if (mode !== null && !ALLOWED_MODES.has(mode)) {
      report(
        "odd-mode",
        file.line,
        file.newPath ?? file.oldPath,
        `mode ${mode} is not a regular file, an executable or a symlink`,
      );
      return;
    }
  }
}

/** A symlink the file creates that leads out, and any written path that goes through a symlink. */
function checkSymlinks(
  file: FileDiff,
  paths: readonly string[],
  symlinks: ReadonlyMap<string, string>,
  report: Report,
): void {
  const changesLink = file.newMode === SYMLINK_MODE || file.hunks.length > 0;
  if (file.newPath !== null && symlinks.has(file.newPath) && changesLink) {
    const target = symlinks.get(file.newPath)!;
    if (symlinkLeavesRepository(file.newPath, target)) {
      report(
        "symlink-escape",
        file.line,
        file.newPath,
        `creates a symlink to "${target}", outside the repository`,
      );
    }
  }
  const written = [...paths, ...(file.change === "copied" && file.oldPath ? [file.oldPath] : [])];
  for (const path of written) {
    const segments = path.split("/");
    for (let depth = 1; depth < segments.length; depth++) {
      const prefix = segments.slice(0, depth).join("/");
      const target = symlinks.get(prefix);
      if (target === undefined) continue;
      if (symlinkLeavesRepository(prefix, target)) {
        report(
          "symlink-escape",
          file.line,
          path,
          `goes through the symlink ${prefix} -> "${target}" out of the repository`,
        );
      } else {
        report("through-symlink", file.line, path, `goes through the symlink ${prefix} -> "${target}"`);
      }
      break;
    }
  }
}

/** The bug diff touches no oracle file; the weakening touches nothing else. */
function checkRole(
  file: FileDiff,
  paths: readonly string[],
  role: { kind: "code" | "oracle"; oracle: ReadonlySet<string> },
  report: Report,
): void {
  const { oracle } = role;
  if (role.kind === "code") {
    const mention = file.mentions.find((entry) => oracle.has(entry.path));
    if (mention) {
      report(
        "oracle-file",
        mention.line,
        mention.path,
        "the bug diff may not touch an oracle test file (test_files.txt)",
      );
    }
    return;
  }
  for (const path of paths) {
    if (!oracle.has(path)) {
      const mention = file.mentions.find((entry) => entry.path === path);
      report(
        "outside-oracle",
        mention?.line ?? file.line,
        path,
        "the weakening may only touch oracle test files listed in test_files.txt",
      );
    }
  }
}
