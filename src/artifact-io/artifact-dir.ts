// Artifact directories on disk: reading one (alternative names, size caps, plain files only, meta.json
// optional) and writing one atomically under the canonical names.
import { lstat, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ALTERNATIVE_FILE_NAMES,
  ARTIFACT_FILE_NAMES,
  type ArtifactFileName,
  type ArtifactSizeLimits,
  DEFAULT_SIZE_LIMITS,
  limitFor,
  META_FILE_NAME,
  parseMeta,
  parseTestFiles,
  serializeArtifactFiles,
} from "../artifact/index.js";
import { InputError } from "../errors.js";
import type { ArtifactMeta, BugArtifact } from "../ports/artifact.js";

export interface ReadArtifactOptions {
  limits?: Partial<ArtifactSizeLimits>;
  /** Fields used where meta.json is absent or leaves them out. */
  metaDefaults?: Partial<ArtifactMeta>;
}

/** A missing path or a file where the artifact directory should be is named as such, not as a missing file. */
async function checkDirectory(dir: string): Promise<void> {
  const stats = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT")
      throw new InputError("artifact-missing", `artifact directory ${dir} does not exist`, { data: { dir } });
    throw new InputError("artifact-unreadable", `cannot read ${dir}: ${error.message}`, { data: { dir } });
  });
  if (!stats.isDirectory() && !stats.isSymbolicLink())
    throw new InputError("artifact-missing", `artifact ${dir} is not a directory`, { data: { dir } });
}

/**
 * Reads an artifact directory. Accepts the alternative names, treats meta.json as optional, and throws
 * an InputError naming the file for anything missing, ambiguous, oversized, unreadable or not a
 * regular file (a symlink could point anywhere on the host).
 */
export async function readArtifactDir(dir: string, options: ReadArtifactOptions = {}): Promise<BugArtifact> {
  const limits = { ...DEFAULT_SIZE_LIMITS, ...options.limits };
  await checkDirectory(dir);
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
