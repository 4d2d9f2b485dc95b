// The semantic key of a bug: its diff normalised so that the same bug written differently gets the same
// key. What counts: the files and functions it changes (the hunks' sections) and the edit as token
// sequences; what does not: whitespace, comments, line positions, context lines and the names of locals the
// edit introduces. Pure.
import { createHash } from "node:crypto";
import { parseDiff } from "./diff-parse.js";

/** Tokens of one line of code: identifiers, numbers, strings, operators; comments and whitespace dropped. */
const TOKEN = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|[A-Za-z_$][\w$]*|\d[\w.]*|[^\s\w]/g;

function withoutComment(line: string): string {
  // `#` (Python, shell) and `//` (C-like) line comments, outside strings.
  let quote: string | null = null;
  for (let index = 0; index < line.length; index++) {
    const character = line[index]!;
    if (quote) {
      if (character === "\\") index++;
      else if (character === quote) quote = null;
    } else if (character === '"' || character === "'" || character === "`") quote = character;
    else if (character === "#" || (character === "/" && line[index + 1] === "/")) return line.slice(0, index);
  }
  return line;
}

function tokens(lines: readonly string[]): string[] {
  const result: string[] = [];
  for (const line of lines) {
    const code = withoutComment(line).trim();
    // Lines that are only a block comment or docstring marker carry no edit.
    if (code === "" || /^(\/\*|\*|\*\/)/.test(code)) continue;
    result.push(...(code.match(TOKEN) ?? []));
  }
  return result;
}

/**
 * Names each side of the edit binds (`name =`, `let/const/var name`, `name :=`) become placeholders in
 * order of binding, so renaming a local does not make a different bug.
 */
function renameLocals(removed: string[], added: string[]): { removed: string[]; added: string[] } {
  const bound = (sequence: string[]) => {
    const names: string[] = [];
    for (let index = 0; index < sequence.length; index++) {
      const token = sequence[index]!;
      if (!/^[A-Za-z_$][\w$]*$/.test(token)) continue;
      const next = sequence[index + 1];
      const previous = sequence[index - 1];
      const assigned = next === "=" && sequence[index + 2] !== "=" && previous !== ".";
      const declared = previous === "let" || previous === "const" || previous === "var";
      const shortDeclared = next === ":" && sequence[index + 2] === "=";
      if ((assigned || declared || shortDeclared) && !names.includes(token)) names.push(token);
    }
    return names;
  };
  const rename = (sequence: string[], locals: string[]) => {
    const map = new Map(locals.map((name, index) => [name, `$local${index}`]));
    return sequence.map((token) => map.get(token) ?? token);
  };
  return { removed: rename(removed, bound(removed)), added: rename(added, bound(added)) };
}

/** The normalised edit of a bug diff, as data (shown in exports) — null when the diff does not parse. */
export function normalisedBug(
  bugDiff: string,
): { file: string; functions: string[]; removed: string[]; added: string[] }[] | null {
  const parsed = parseDiff(bugDiff);
  if (parsed.status !== "ok") return null;
  const files = parsed.files.map((file) => {
    const removedLines: string[] = [];
    const addedLines: string[] = [];
    const functions = new Set<string>();
    for (const hunk of file.hunks) {
      const section = hunk.section.trim();
      if (section !== "") functions.add(tokens([section]).join(" "));
      for (const line of hunk.lines) {
        if (line.kind === "removed") removedLines.push(line.text);
        else if (line.kind === "added") addedLines.push(line.text);
      }
    }
    const edit = renameLocals(tokens(removedLines), tokens(addedLines));
    return {
      file: file.newPath ?? file.oldPath ?? "",
      functions: [...functions].sort(),
      removed: edit.removed,
      added: edit.added,
    };
  });
  // Hunks that only moved whitespace or comments change nothing.
  return files
    .filter((file) => file.removed.join(" ") !== file.added.join(" "))
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** sha256 of the normalised edit; equal for the same bug written differently. Null for an unparsable diff. */
export function semanticKey(bugDiff: string): string | null {
  const normalised = normalisedBug(bugDiff);
  if (normalised === null) return null;
  return createHash("sha256").update(JSON.stringify(normalised)).digest("hex");
}
