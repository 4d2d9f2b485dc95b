// The parsed diff's records: files, hunks, lines, binary patches. Shared by the parser (diff-parse.ts) and
// the hunk reader (diff-hunks.ts), so neither imports the other's types.

export type DiffLineKind = "context" | "removed" | "added";

export interface DiffLine {
  kind: DiffLineKind;
  /** The line without its one-character prefix and without the newline. */
  text: string;
  /** True when a "\ No newline at end of file" marker follows the line. */
  noNewlineAtEnd: boolean;
}

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Text after the closing "@@" (usually a function name), kept as written. */
  section: string;
  lines: DiffLine[];
  /** 1-based line of the "@@" header in the diff. */
  line: number;
}

/** "GIT binary patch" data: each section is its "literal N" / "delta N" line plus the base85 lines. */
export interface BinaryPatch {
  forward: string[];
  reverse: string[] | null;
}

export type FileChange = "modified" | "added" | "deleted" | "renamed" | "copied";

/** A path as named somewhere in a file's header, with the diff line that names it. */
export interface PathMention {
  path: string;
  line: number;
  /** Which header named it, e.g. "diff --git", "+++", "rename to". */
  source: string;
}

export interface FileDiff {
  /** Path before the change; null for an added file. Prefixes a/ and b/ removed. */
  oldPath: string | null;
  /** Path after the change; null for a deleted file. */
  newPath: string | null;
  change: FileChange;
  /** Modes as six octal digits ("100644"); null when the diff does not say. */
  oldMode: string | null;
  newMode: string | null;
  similarity: number | null;
  index: { oldHash: string; newHash: string; mode: string | null } | null;
  hunks: Hunk[];
  /** Binary content: the full patch, or a "Binary files ... differ" marker without data. */
  binary: { kind: "patch"; patch: BinaryPatch } | { kind: "marker"; text: string } | null;
  /** 1-based line where the file's section starts. */
  line: number;
  /** Every path the section names, for safety checks (headers may disagree with each other). */
  mentions: PathMention[];
  /** The exact text of the section, ending with a newline. */
  raw: string;
}

export type ParseDiffResult =
  | { status: "ok"; files: FileDiff[] }
  | { status: "error"; line: number; message: string };
