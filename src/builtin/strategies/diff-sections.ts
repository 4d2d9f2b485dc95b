// Splits a git diff into its per-file sections, so a policy keeps exactly the files it meant to change
// (test runs may leave other files behind in the tree).

export interface DiffSection {
  /** Repository-relative path (the new path, or the old one for a deletion). */
  path: string;
  text: string;
}

function unquote(path: string): string {
  if (!path.startsWith('"')) return path;
  try {
    return JSON.parse(path) as string;
  } catch {
    return path.slice(1, -1);
  }
}

function pathOfSection(lines: readonly string[]): string {
  let minus: string | null = null;
  for (const line of lines) {
    if (line.startsWith("+++ ")) {
      const target = unquote(line.slice(4).trim());
      if (target !== "/dev/null") return target.replace(/^b\//, "");
    } else if (line.startsWith("--- ")) {
      const source = unquote(line.slice(4).trim());
      if (source !== "/dev/null") minus = source.replace(/^a\//, "");
    } else if (line.startsWith("rename to ")) return line.slice("rename to ".length);
  }
  if (minus) return minus;
  // Mode-only or binary sections have no ---/+++ lines: read the header.
  const header = /^diff --git (?:"?a\/)(.+?)"? (?:"?b\/)(.+?)"?$/.exec(lines[0] ?? "");
  return header?.[2] ?? "";
}

export function splitDiffSections(diff: string): DiffSection[] {
  const sections: DiffSection[] = [];
  let current: string[] | null = null;
  const flush = () => {
    if (current && current.length > 0)
      sections.push({ path: pathOfSection(current), text: `${current.join("\n")}\n` });
  };
  const lines = diff.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    if (line.startsWith("diff --git ")) {
      flush();
      current = [line];
    } else if (current) current.push(line);
  }
  flush();
  return sections;
}

/** The sections of `diff` whose path satisfies `keep`, joined back into one diff. */
export function filterDiff(diff: string, keep: (path: string) => boolean): string {
  return splitDiffSections(diff)
    .filter((section) => keep(section.path))
    .map((section) => section.text)
    .join("");
}
