// The artifact as files on disk: canonical names, the alternative names agents use, size caps,
// and reading / writing an artifact directory (five files plus meta.json).
import { lstat, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { InputError } from "../errors.js";
import { type ArtifactMeta, type BugArtifact, STRATEGIES } from "../ports/artifact.js";

export const ARTIFACT_FILE_NAMES = [
  "test_script.sh",
  "test_files.txt",
  "test_parser.py",
  "bug_inject.diff",
  "test_weaken.diff",
] as const;
export type ArtifactFileName = (typeof ARTIFACT_FILE_NAMES)[number];

export const META_FILE_NAME = "meta.json";

/** Names that agents following the paper's prompts use, accepted on input; we always write canonical names. */
export const ALTERNATIVE_FILE_NAMES: Readonly<Partial<Record<ArtifactFileName, readonly string[]>>> = {
  "test_parser.py": ["parse_test_output.py"],
  "bug_inject.diff": ["bug_patch.diff"],
  "test_weaken.diff": ["test_patch.diff"],
};

/** Byte caps per artifact file; generous for real artifacts, small enough to stop a repository in a diff. */
export interface ArtifactSizeLimits {
  testScript: number;
  testFiles: number;
  testParser: number;
  diff: number;
  meta: number;
}

export const DEFAULT_SIZE_LIMITS: ArtifactSizeLimits = {
  testScript: 64 * 1024,
  testFiles: 256 * 1024,
  testParser: 256 * 1024,
  diff: 4 * 1024 * 1024,
  meta: 64 * 1024,
};

function limitFor(name: ArtifactFileName | typeof META_FILE_NAME, limits: ArtifactSizeLimits): number {
  switch (name) {
    case "test_script.sh":
      return limits.testScript;
    case "test_files.txt":
      return limits.testFiles;
    case "test_parser.py":
      return limits.testParser;
    case "meta.json":
      return limits.meta;
    default:
      return limits.diff;
  }
}

/** test_files.txt as a list: one path per line, surrounding whitespace and blank lines dropped. */
export function parseTestFiles(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** The five files exactly as written to disk and hashed for the id (test_files.txt: one path a line). */
export function serializeArtifactFiles(artifact: BugArtifact): Record<ArtifactFileName, string> {
  return {
    "test_script.sh": artifact.testScript,
    "test_files.txt": artifact.testFiles.length === 0 ? "" : `${artifact.testFiles.join("\n")}\n`,
    "test_parser.py": artifact.testParser,
    "bug_inject.diff": artifact.bugInjectDiff,
    "test_weaken.diff": artifact.testWeakenDiff,
  };
}

const metaSchema = z
  .object({
    environment: z.string().min(1),
    strategy: z.enum(STRATEGIES as [ArtifactMeta["strategy"], ...ArtifactMeta["strategy"][]]),
    order: z.union([z.literal(1), z.literal(2)]),
    parentId: z.string().min(1).nullable(),
    policy: z.string().min(1),
    createdAt: z.string().min(1),
    seed: z.number().int().optional(),
  })
  .strict();

/** Meta defaults for artifacts that come without meta.json (e.g. written by hand or by an agent). */
export function defaultMeta(overrides: Partial<ArtifactMeta> = {}): ArtifactMeta {
  return {
    environment: "unknown",
    strategy: "direct",
    order: 1,
    parentId: null,
    policy: "unknown",
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

export interface ReadArtifactOptions {
  limits?: Partial<ArtifactSizeLimits>;
  /** Fields used where meta.json is absent or leaves them out. */
  metaDefaults?: Partial<ArtifactMeta>;
}

/**
 * Reads an artifact directory. Accepts the alternative names, treats meta.json as optional, and throws
 * an InputError naming the file for anything missing, ambiguous, oversized, unreadable or not a
 * regular file (a symlink could point anywhere on the host).
 */
export async function readArtifactDir(dir: string, options: ReadArtifactOptions = {}): Promise<BugArtifact> {
  const limits = { ...DEFAULT_SIZE_LIMITS, ...options.limits };
  const contents = {} as Record<ArtifactFileName, string>;
  for (const name of ARTIFACT_FILE_NAMES) {
    const candidates = [name, ...(ALTERNATIVE_FILE_NAMES[name] ?? [])];
    const present: { file: string; text: string }[] = [];
    for (const file of candidates) {
      const text = await readRegularFile(dir, file, limitFor(name, limits));
      if (text !== null) present.push({ file, text });
    }
    if (present.length === 0) {
      throw new InputError(
        "artifact-file-missing",
        `artifact ${dir} has no ${name}${candidates.length > 1 ? ` (also looked for ${candidates.slice(1).join(", ")})` : ""}`,
        { data: { dir, file: name } },
      );
    }
    const distinct = new Set(present.map((entry) => entry.text));
    if (distinct.size > 1) {
      throw new InputError(
        "artifact-file-ambiguous",
        `artifact ${dir} has both ${present.map((entry) => entry.file).join(" and ")} with different contents; keep one`,
        { data: { dir, files: present.map((entry) => entry.file) } },
      );
    }
    contents[name] = present[0]!.text;
  }
  const metaText = await readRegularFile(dir, META_FILE_NAME, limits.meta);
  return {
    testScript: contents["test_script.sh"],
    testFiles: parseTestFiles(contents["test_files.txt"]),
    testParser: contents["test_parser.py"],
    bugInjectDiff: contents["bug_inject.diff"],
    testWeakenDiff: contents["test_weaken.diff"],
    meta: parseMeta(metaText, join(dir, META_FILE_NAME), options.metaDefaults),
  };
}

/** Parses meta.json text (null: absent) over the defaults; InputError naming the field when invalid. */
export function parseMeta(
  text: string | null,
  where: string,
  defaults: Partial<ArtifactMeta> = {},
): ArtifactMeta {
  const base = defaultMeta(defaults);
  if (text === null) return base;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputError("artifact-meta-invalid", `${where} is not JSON: ${(error as Error).message}`, {
      data: { file: where },
      cause: error,
    });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InputError("artifact-meta-invalid", `${where} must hold a JSON object`, {
      data: { file: where },
    });
  }
  const parsed = metaSchema.safeParse({ ...base, ...raw });
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new InputError("artifact-meta-invalid", `${where}: ${issues.join("; ")}`, {
      data: { file: where, issues },
    });
  }
  return parsed.data as ArtifactMeta;
}

/** The file's text, or null when it does not exist. */
async function readRegularFile(dir: string, file: string, limit: number): Promise<string | null> {
  const path = join(dir, file);
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    if (
      (error as NodeJS.ErrnoException).code === "ENOTDIR" ||
      (error as NodeJS.ErrnoException).code === "EACCES"
    ) {
      throw new InputError("artifact-unreadable", `cannot read ${path}: ${(error as Error).message}`, {
        data: { dir, file },
        cause: error,
      });
    }
    throw error;
  }
  if (!stats.isFile()) {
    throw new InputError(
      "artifact-file-not-regular",
      `${path} is not a regular file (${stats.isSymbolicLink() ? "a symlink" : stats.isDirectory() ? "a directory" : "special"}); artifact files must be plain files`,
      { data: { dir, file } },
    );
  }
  if (stats.size > limit) {
    throw new InputError(
      "artifact-file-too-large",
      `${path} is ${stats.size} bytes, over the ${limit}-byte cap for ${file}`,
      { data: { dir, file, size: stats.size, limit } },
    );
  }
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new InputError("artifact-unreadable", `cannot read ${path}: ${(error as Error).message}`, {
      data: { dir, file },
      cause: error,
    });
  }
}

/**
 * Writes the five files under their canonical names plus meta.json (test_script.sh executable), and
 * removes files under alternative names, so rewriting an agent's directory in place leaves it unambiguous.
 */
export async function writeArtifactDir(dir: string, artifact: BugArtifact): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files: [string, string, number][] = Object.entries(serializeArtifactFiles(artifact)).map(
    ([name, text]) => [name, text, name === "test_script.sh" ? 0o755 : 0o644],
  );
  files.push([META_FILE_NAME, `${JSON.stringify(artifact.meta, null, 2)}\n`, 0o644]);
  for (const [name, text, mode] of files) {
    // Write then rename so that a reader never sees half a file.
    const target = join(dir, name);
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, text, { mode });
    await rename(temporary, target);
  }
  // Files under alternative names would make the directory ambiguous on the next read.
  for (const names of Object.values(ALTERNATIVE_FILE_NAMES)) {
    for (const name of names ?? []) await rm(join(dir, name), { force: true });
  }
}
