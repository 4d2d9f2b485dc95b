// Parsing git-format diffs (and plain unified diffs) into per-file records with line numbers.
// Malformed input is a typed result naming the line, never an exception.
import { DiffSyntaxError, parseBinaryPatch, parseHunks } from "./diff-hunks.js";
import type { FileDiff, ParseDiffResult } from "./diff-types.js";
import { readQuoted } from "./path-quoting.js";

export type {
  BinaryPatch,
  DiffLine,
  DiffLineKind,
  FileChange,
  FileDiff,
  Hunk,
  ParseDiffResult,
  PathMention,
} from "./diff-types.js";

const MODE = /^[0-7]{6}$/;

/** Splits text into lines; a final newline does not make an extra empty line. */
function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function isFileStart(lines: string[], index: number): boolean {
  const line = lines[index]!;
  if (line.startsWith("diff --git ")) return true;
  return line.startsWith("--- ") && (lines[index + 1]?.startsWith("+++ ") ?? false);
}

/** Parses a diff into files. Text before the first file (a commit message) and between files is ignored. */
export function parseDiff(text: string): ParseDiffResult {
  const lines = splitLines(text);
  const files: FileDiff[] = [];
  let index = 0;
  try {
    while (index < lines.length) {
      if (!isFileStart(lines, index)) {
        index += 1;
        continue;
      }
      const start = index;
      const file = lines[index]!.startsWith("diff --git ")
        ? parseGitFile(lines, index)
        : parsePlainFile(lines, index);
      index = file.next;
      file.diff.raw = `${lines.slice(start, index).join("\n")}\n`;
      files.push(file.diff);
    }
  } catch (error) {
    if (error instanceof DiffSyntaxError)
      return { status: "error", line: error.line, message: error.message };
    throw error;
  }
  return { status: "ok", files };
}

function emptyFile(line: number): FileDiff {
  return {
    oldPath: null,
    newPath: null,
    change: "modified",
    oldMode: null,
    newMode: null,
    similarity: null,
    index: null,
    hunks: [],
    binary: null,
    line,
    mentions: [],
    raw: "",
  };
}

function stripPrefix(path: string, prefix: "a/" | "b/"): string {
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

/** Reads one path token (quoted, or up to the end of the line / a tab) from a ---, +++ or rename line. */
function readPathToken(text: string, lineNumber: number): string {
  if (text.startsWith('"')) {
    const quoted = readQuoted(text, 0);
    if (!quoted) throw new DiffSyntaxError(lineNumber, `broken quoting in path ${text}`);
    return quoted.value;
  }
  // Plain unified diffs may append a tab and a timestamp.
  const tab = text.indexOf("\t");
  return tab >= 0 ? text.slice(0, tab) : text;
}

/** The two paths of a "diff --git a/X b/Y" line. */
function parseGitHeaderPaths(rest: string, lineNumber: number): { oldPath: string; newPath: string } {
  if (rest.startsWith('"')) {
    const first = readQuoted(rest, 0);
    if (!first || rest[first.end] !== " ")
      throw new DiffSyntaxError(lineNumber, "broken quoting in diff --git line");
    const second = rest.slice(first.end + 1);
    return {
      oldPath: stripPrefix(first.value, "a/"),
      newPath: stripPrefix(readPathToken(second, lineNumber), "b/"),
    };
  }
  if (rest.endsWith('"')) {
    const open = rest.lastIndexOf(' "');
    const second = open >= 0 ? readQuoted(rest, open + 1) : null;
    if (!second) throw new DiffSyntaxError(lineNumber, "broken quoting in diff --git line");
    return { oldPath: stripPrefix(rest.slice(0, open), "a/"), newPath: stripPrefix(second.value, "b/") };
  }
  // Unquoted names may contain spaces: prefer the split where both halves name the same file.
  const candidates: number[] = [];
  for (let at = rest.indexOf(" b/"); at >= 0; at = rest.indexOf(" b/", at + 1)) candidates.push(at);
  for (const at of candidates) {
    const oldPath = stripPrefix(rest.slice(0, at), "a/");
    const newPath = rest.slice(at + 3);
    if (oldPath === newPath) return { oldPath, newPath };
  }
  if (candidates.length > 0) {
    const at = candidates[candidates.length - 1]!;
    return { oldPath: stripPrefix(rest.slice(0, at), "a/"), newPath: rest.slice(at + 3) };
  }
  // Without a/ b/ prefixes (git diff --no-prefix): split in the middle when the halves match.
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === " " && rest.slice(0, half) === rest.slice(half + 1)) {
    return { oldPath: rest.slice(0, half), newPath: rest.slice(half + 1) };
  }
  const space = rest.indexOf(" ");
  if (space < 0) throw new DiffSyntaxError(lineNumber, `cannot read two paths from "diff --git ${rest}"`);
  return { oldPath: rest.slice(0, space), newPath: rest.slice(space + 1) };
}

function parseGitFile(lines: string[], start: number): { diff: FileDiff; next: number } {
  const lineNumber = start + 1;
  const diff = emptyFile(lineNumber);
  const header = parseGitHeaderPaths(lines[start]!.slice("diff --git ".length), lineNumber);
  diff.oldPath = header.oldPath;
  diff.newPath = header.newPath;
  diff.mentions.push(
    { path: header.oldPath, line: lineNumber, source: "diff --git" },
    { path: header.newPath, line: lineNumber, source: "diff --git" },
  );
  let index = start + 1;
  let modeSeen = false;
  for (; index < lines.length; index += 1) {
    const line = lines[index]!;
    const number = index + 1;
    const mode = (prefix: string): string => {
      const value = line.slice(prefix.length).trim();
      if (!MODE.test(value))
        throw new DiffSyntaxError(number, `"${value}" is not a file mode (${prefix.trim()})`);
      return value;
    };
    if (line.startsWith("old mode ")) {
      diff.oldMode = mode("old mode ");
      modeSeen = true;
    } else if (line.startsWith("new mode ")) {
      diff.newMode = mode("new mode ");
      modeSeen = true;
    } else if (line.startsWith("deleted file mode ")) {
      diff.oldMode = mode("deleted file mode ");
      diff.change = "deleted";
    } else if (line.startsWith("new file mode ")) {
      diff.newMode = mode("new file mode ");
      diff.change = "added";
    } else if (line.startsWith("similarity index ") || line.startsWith("dissimilarity index ")) {
      const value = Number.parseInt(line.slice(line.indexOf("index ") + 6), 10);
      diff.similarity = line.startsWith("similarity") ? value : 100 - value;
    } else if (line.startsWith("rename from ") || line.startsWith("copy from ")) {
      const source = line.startsWith("rename") ? "rename from" : "copy from";
      diff.oldPath = readPathToken(line.slice(source.length + 1), number);
      diff.change = line.startsWith("rename") ? "renamed" : "copied";
      diff.mentions.push({ path: diff.oldPath, line: number, source });
    } else if (line.startsWith("rename to ") || line.startsWith("copy to ")) {
      const source = line.startsWith("rename") ? "rename to" : "copy to";
      diff.newPath = readPathToken(line.slice(source.length + 1), number);
      diff.mentions.push({ path: diff.newPath, line: number, source });
    } else if (line.startsWith("index ")) {
      const match = /^index ([0-9a-fA-F]+)\.\.([0-9a-fA-F]+)(?: ([0-7]{6}))?$/.exec(line);
      if (!match) throw new DiffSyntaxError(number, `malformed index line "${line}"`);
      diff.index = { oldHash: match[1]!, newHash: match[2]!, mode: match[3] ?? null };
    } else {
      break;
    }
  }
  if (diff.index?.mode && !modeSeen && diff.change !== "added" && diff.change !== "deleted") {
    diff.oldMode = diff.index.mode;
    diff.newMode = diff.index.mode;
  }
  if (diff.change === "added") diff.oldPath = null;
  if (diff.change === "deleted") diff.newPath = null;

  const line = lines[index];
  if (line?.startsWith("GIT binary patch")) {
    const parsed = parseBinaryPatch(lines, index + 1);
    diff.binary = { kind: "patch", patch: parsed.patch };
    return { diff, next: parsed.next };
  }
  if (line?.startsWith("Binary files ")) {
    diff.binary = { kind: "marker", text: line };
    return { diff, next: index + 1 };
  }
  if (line?.startsWith("--- ")) {
    index = parseFileNames(lines, index, diff);
  }
  return { diff, next: parseHunks(lines, index, diff) };
}

function parsePlainFile(lines: string[], start: number): { diff: FileDiff; next: number } {
  const diff = emptyFile(start + 1);
  const index = parseFileNames(lines, start, diff);
  if (diff.oldPath === null && diff.newPath === null) {
    throw new DiffSyntaxError(start + 1, "both sides of the diff are /dev/null");
  }
  if (diff.oldPath === null) diff.change = "added";
  else if (diff.newPath === null) diff.change = "deleted";
  else if (diff.oldPath !== diff.newPath) diff.change = "renamed";
  return { diff, next: parseHunks(lines, index, diff) };
}

/** Reads the "--- " and "+++ " lines; returns the index after them. */
function parseFileNames(lines: string[], index: number, diff: FileDiff): number {
  const minus = lines[index]!;
  const plus = lines[index + 1];
  if (!plus?.startsWith("+++ "))
    throw new DiffSyntaxError(index + 2, `expected a "+++ " line after "${minus}"`);
  const oldName = readPathToken(minus.slice(4), index + 1);
  const newName = readPathToken(plus.slice(4), index + 2);
  if (oldName !== "/dev/null") {
    diff.mentions.push({ path: stripPrefix(oldName, "a/"), line: index + 1, source: "---" });
  }
  if (newName !== "/dev/null") {
    diff.mentions.push({ path: stripPrefix(newName, "b/"), line: index + 2, source: "+++" });
  }
  const isGit = diff.mentions.some((mention) => mention.source === "diff --git");
  if (!isGit) {
    diff.oldPath = oldName === "/dev/null" ? null : stripPrefix(oldName, "a/");
    diff.newPath = newName === "/dev/null" ? null : stripPrefix(newName, "b/");
  } else if (oldName === "/dev/null" && diff.change !== "added") {
    throw new DiffSyntaxError(index + 1, `"--- /dev/null" but the header does not say "new file mode"`);
  } else if (newName === "/dev/null" && diff.change !== "deleted") {
    throw new DiffSyntaxError(index + 2, `"+++ /dev/null" but the header does not say "deleted file mode"`);
  }
  return index + 2;
}

/** Every path a file diff touches: both sides of a rename, one side otherwise. */
export function filePaths(file: FileDiff): string[] {
  const paths: string[] = [];
  if (file.oldPath !== null && file.change !== "copied") paths.push(file.oldPath);
  if (file.newPath !== null && !paths.includes(file.newPath)) paths.push(file.newPath);
  return paths;
}
