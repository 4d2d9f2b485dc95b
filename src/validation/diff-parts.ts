// A git diff cut into its per-file parts, each with the paths it touches (old and new side).
// TODO(validation): switch to src/artifact's splitDiffByFile once published.

export interface DiffPart {
  /** Paths the part touches: the old and the new path (one entry unless it renames or copies). */
  files: string[];
  /** The part's text, starting at its "diff --git" line. */
  diff: string;
}

function unquote(path: string): string {
  if (!path.startsWith('"')) return path;
  return JSON.parse(
    path.replace(
      /\\([0-7]{3})/g,
      (_, octal: string) => `\\u00${Number.parseInt(octal, 8).toString(16).padStart(2, "0")}`,
    ),
  );
}

function stripSide(path: string, side: "a/" | "b/"): string {
  const plain = unquote(path.trim());
  return plain.startsWith(side) ? plain.slice(2) : plain;
}

export function filePartsOf(diff: string): DiffPart[] {
  const parts: DiffPart[] = [];
  const lines = diff.split(/(?<=\n)/);
  let current: { lines: string[]; files: Set<string>; inBody: boolean } | null = null;
  const flush = () => {
    if (current) parts.push({ files: [...current.files], diff: current.lines.join("") });
  };
  for (const line of lines) {
    if (line.startsWith("diff --git ")) {
      flush();
      current = { lines: [line], files: new Set(), inBody: false };
      const header = line.slice("diff --git ".length).trimEnd();
      const match = header.match(/^(?:"((?:[^"\\]|\\.)*)"|(\S+)) (?:"((?:[^"\\]|\\.)*)"|(\S+))$/);
      if (match) {
        const old = match[1] !== undefined ? unquote(`"${match[1]}"`) : match[2]!;
        const next = match[3] !== undefined ? unquote(`"${match[3]}"`) : match[4]!;
        current.files.add(stripSide(old, "a/"));
        current.files.add(stripSide(next, "b/"));
      }
      continue;
    }
    if (!current) continue;
    current.lines.push(line);
    if (line.startsWith("@@") || line.startsWith("GIT binary patch")) current.inBody = true;
    if (current.inBody) continue;
    const header = line.match(/^(---|\+\+\+|rename from|rename to|copy from|copy to) (.*)$/);
    if (header && !line.startsWith("--- /dev/null") && !line.startsWith("+++ /dev/null")) {
      const [, kind, path] = header;
      const value =
        kind === "---"
          ? stripSide(path!, "a/")
          : kind === "+++"
            ? stripSide(path!, "b/")
            : unquote(path!.trim());
      current.files.add(value.replace(/\t.*$/, ""));
    }
  }
  flush();
  return parts;
}

/** Every path a diff touches, sorted, each once. */
export function touchedFiles(diff: string): string[] {
  return [...new Set(filePartsOf(diff).flatMap((part) => part.files))].sort();
}
