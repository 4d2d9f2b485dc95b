// The artifact's files: canonical names, the alternative names agents use, size caps, the five files'
// text and meta.json's schema. Reading and writing directories is src/artifact-io/'s job.
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

export function limitFor(name: ArtifactFileName | typeof META_FILE_NAME, limits: ArtifactSizeLimits): number {
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
    difficulty: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).optional(),
  })
  .strict();

/** Meta defaults for artifacts that come without meta.json (e.g. written by hand or by an agent). */
function defaultMeta(overrides: Partial<ArtifactMeta> = {}): ArtifactMeta {
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
