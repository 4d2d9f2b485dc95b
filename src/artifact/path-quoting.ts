// Git's C-style quoting of path names in diff headers ("a/tab\there" with octal escapes for bytes).

const ESCAPES: Record<string, string> = { a: "\x07", b: "\b", t: "\t", n: "\n", v: "\v", f: "\f", r: "\r" };
const REVERSE_ESCAPES: Record<string, string> = Object.fromEntries(
  Object.entries(ESCAPES).map(([letter, char]) => [char, letter]),
);

/**
 * Reads a quoted name starting at `text[start] === '"'`. Returns the name and the index after the
 * closing quote, or null when the quoting is broken.
 */
export function readQuoted(text: string, start: number): { value: string; end: number } | null {
  const bytes: number[] = [];
  let index = start + 1;
  while (index < text.length) {
    const char = text[index]!;
    if (char === '"') return { value: Buffer.from(bytes).toString("utf8"), end: index + 1 };
    if (char !== "\\") {
      bytes.push(...Buffer.from(char, "utf8"));
      index += 1;
      continue;
    }
    const next = text[index + 1];
    if (next === undefined) return null;
    if (next === '"' || next === "\\") {
      bytes.push(next.charCodeAt(0));
      index += 2;
    } else if (ESCAPES[next] !== undefined) {
      bytes.push(ESCAPES[next]!.charCodeAt(0));
      index += 2;
    } else if (/^[0-7]{3}$/.test(text.slice(index + 1, index + 4))) {
      bytes.push(Number.parseInt(text.slice(index + 1, index + 4), 8));
      index += 4;
    } else {
      return null;
    }
  }
  return null;
}

/** Quotes a name the way git does when it holds a quote, a backslash or a control character. */
export function quotePath(path: string): string {
  if (!/["\\\x00-\x1f\x7f]/.test(path)) return path;
  let out = '"';
  for (const char of path) {
    if (char === '"' || char === "\\") out += `\\${char}`;
    else if (REVERSE_ESCAPES[char] !== undefined) out += `\\${REVERSE_ESCAPES[char]}`;
    else if (/[\x00-\x1f\x7f]/.test(char)) out += `\\${char.charCodeAt(0).toString(8).padStart(3, "0")}`;
    else out += char;
  }
  return `${out}"`;
}
