// Making a frozen task set: candidate tasks from a store's valid artifacts, an exported artifacts directory
// or SWE-bench-style JSONL lines; filters (environment, strategy, order, solve-rate band); a seeded choice of
// a size; and the split helpers (hold out whole environments, or a share of the bugs of every environment).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { artifactId, reverseDiff, unwrapDiff } from "../artifact/index.js";
import { readArtifactDir } from "../artifact-io/index.js";
import { errorMessage, InputError } from "../errors.js";
import type { BugArtifact } from "../ports/artifact.js";
import { type SqliteStore, validArtifactRows } from "../store/index.js";
import { mulberry32 } from "./figures.js";
import { TASK_SET_SCHEMA, type TaskEntry, type TaskSetFile, taskEntry } from "./task-set.js";

/** A task that could go into a set, with what the filters read. */
export interface Candidate {
  entry: TaskEntry;
  /** Mean solve rate of the artifact's solver groups where known (store source only). */
  solveRate: number | null;
}

export interface SetFilters {
  environments?: readonly string[];
  strategies?: readonly string[];
  order?: 1 | 2;
  /** Keep tasks whose artifact records one of these difficulty levels (meta.difficulty). */
  difficulties?: readonly number[];
  /** Keep tasks whose known solve rate is within [min, max]; tasks without one are left out when set. */
  solveRate?: { min: number; max: number };
}

export interface SetChoice {
  name: string;
  seed: number;
  /** Tasks to keep (default all that pass the filters). */
  size?: number;
  /** Tasks to keep from every environment (instead of a size). */
  perEnvironment?: number;
  source: Record<string, unknown>;
}

export function filterCandidates(candidates: readonly Candidate[], filters: SetFilters): Candidate[] {
  return candidates.filter(({ entry, solveRate }) => {
    if (filters.environments && !filters.environments.includes(entry.environment)) return false;
    if (filters.strategies && !filters.strategies.includes(entry.strategy)) return false;
    if (filters.order && entry.order !== filters.order) return false;
    if (filters.difficulties && !filters.difficulties.includes(difficultyOf(entry) ?? -1)) return false;
    if (filters.solveRate) {
      if (solveRate === null) return false;
      if (solveRate < filters.solveRate.min || solveRate > filters.solveRate.max) return false;
    }
    return true;
  });
}

/** The difficulty level the task's artifact records, if any. */
export function difficultyOf(entry: TaskEntry): number | null {
  const level = entry.artifact?.meta.difficulty;
  return typeof level === "number" ? level : null;
}

/** A seeded choice of `size` candidates (all of them, shuffled, without a size), as a set file. */
export function chooseSet(candidates: readonly Candidate[], choice: SetChoice): TaskSetFile {
  const unique = new Map<string, TaskEntry>();
  for (const { entry } of candidates) unique.set(`${entry.artifact_id}\t${entry.environment}`, entry);
  // Sorted before shuffling, so the same candidates in any order give the same set.
  const sorted = [...unique.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, entry]) => entry);
  const shuffled = seededShuffle(sorted, choice.seed);
  if (shuffled.length === 0)
    throw new InputError("empty-task-set", "no task passes the filters: the set would be empty");
  return {
    schema: TASK_SET_SCHEMA,
    name: choice.name,
    created_at: new Date().toISOString(),
    source: {
      ...choice.source,
      seed: choice.seed,
      ...(choice.size ? { size: choice.size } : {}),
      ...(choice.perEnvironment ? { perEnvironment: choice.perEnvironment } : {}),
    },
    tasks: choice.perEnvironment
      ? perEnvironment(shuffled, choice.perEnvironment)
      : sized(shuffled, choice.size),
  };
}

function sized(shuffled: TaskEntry[], size = shuffled.length): TaskEntry[] {
  if (size > shuffled.length)
    throw new InputError(
      "task-set-too-small",
      `--size ${size} asks for more tasks than the ${shuffled.length} that pass the filters`,
    );
  return shuffled.slice(0, size);
}

/** The first `count` tasks of every environment, in the shuffled order. */
function perEnvironment(shuffled: TaskEntry[], count: number): TaskEntry[] {
  const taken = new Map<string, number>();
  for (const task of shuffled) taken.set(task.environment, (taken.get(task.environment) ?? 0) + 1);
  for (const [environment, available] of taken)
    if (available < count)
      throw new InputError(
        "task-set-too-small",
        `--per-environment ${count} asks for more tasks than the ${available} on ${environment} that pass the filters`,
      );
  const kept = new Map<string, number>();
  return shuffled.filter((task) => {
    const so = kept.get(task.environment) ?? 0;
    kept.set(task.environment, so + 1);
    return so < count;
  });
}

/** Train on some environments, evaluate on the others: the held-out environments' tasks, and the rest. */
export function holdOutEnvironments(
  set: TaskSetFile,
  heldOut: readonly string[],
): { heldOut: TaskSetFile; rest: TaskSetFile } {
  const known = new Set(set.tasks.map((task) => task.environment));
  for (const name of heldOut)
    if (!known.has(name))
      throw new InputError(
        "unknown-environment",
        `--hold-out-environment ${name}: no task of the set is on it (environments: ${[...known].join(", ")})`,
      );
  const split = (keep: boolean) => set.tasks.filter((task) => heldOut.includes(task.environment) === keep);
  return {
    heldOut: { ...set, name: `${set.name}-held-out`, tasks: split(true) },
    rest: { ...set, name: `${set.name}-rest`, tasks: split(false) },
  };
}

/** Hold out a share of the bugs of every environment (seeded), so both parts cover every environment. */
export function holdOutBugs(
  set: TaskSetFile,
  fraction: number,
  seed: number,
): { heldOut: TaskSetFile; rest: TaskSetFile } {
  if (!(fraction > 0 && fraction < 1))
    throw new InputError("bad-flag", `--hold-out-fraction expects a number between 0 and 1, got ${fraction}`);
  const held: TaskEntry[] = [];
  const rest: TaskEntry[] = [];
  const environments = [...new Set(set.tasks.map((task) => task.environment))];
  for (const environment of environments) {
    const tasks = seededShuffle(
      set.tasks.filter((task) => task.environment === environment),
      seed,
    );
    const count = Math.max(1, Math.round(tasks.length * fraction));
    held.push(...tasks.slice(0, count));
    rest.push(...tasks.slice(count));
  }
  return {
    heldOut: { ...set, name: `${set.name}-held-out`, tasks: held },
    rest: { ...set, name: `${set.name}-rest`, tasks: rest },
  };
}

/** Candidates from an exported artifacts directory (artifacts/<id>/ or the directory of such ids itself). */
export async function candidatesFromDirectory(directory: string, environment?: string): Promise<Candidate[]> {
  const root = existsSync(join(directory, "artifacts")) ? join(directory, "artifacts") : directory;
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    throw new InputError("artifacts-dir-unreadable", `--from-dir ${directory}: ${errorMessage(error)}`);
  }
  const candidates: Candidate[] = [];
  for (const name of names) {
    const artifact = await readArtifactDir(join(root, name));
    candidates.push({
      entry: taskEntry(artifact, environment ?? artifact.meta.environment),
      solveRate: null,
    });
  }
  return candidates;
}

/**
 * Candidates from SWE-bench-style JSONL lines as `export --format swebench` writes them: the bug is the
 * reverse of `patch`, the weakening the reverse of `test_patch`; `image` or `repo` names the environment.
 */
export function candidatesFromSweBench(path: string, environment?: string): Candidate[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InputError("swebench-unreadable", `--from-swebench ${path}: ${errorMessage(error)}`);
  }
  return text.split("\n").flatMap((line, index) => {
    if (line.trim() === "") return [];
    const where = `${path}, line ${index + 1}`;
    const artifact = artifactFromInstance(parseLine(line, where), where);
    return [{ entry: taskEntry(artifact, environment ?? artifact.meta.environment), solveRate: null }];
  });
}

function parseLine(line: string, where: string): Record<string, unknown> {
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new InputError("swebench-line-invalid", `${where}: not a JSON object`);
}

function artifactFromInstance(instance: Record<string, unknown>, where: string): BugArtifact {
  const text = (field: string): string => {
    const value = instance[field];
    if (typeof value !== "string")
      throw new InputError("swebench-line-invalid", `${where}: field ${field} is missing or not a string`);
    return value;
  };
  // `image` names a container environment, `repo` a configured one (our export writes the environment's name).
  const place = typeof instance.image === "string" ? instance.image : instance.repo;
  if (typeof place !== "string" || place === "")
    throw new InputError("swebench-line-invalid", `${where}: neither image nor repo names the environment`);
  const files = instance.test_files;
  if (!Array.isArray(files) || !files.every((file) => typeof file === "string"))
    throw new InputError("swebench-line-invalid", `${where}: field test_files is not a list of paths`);
  // Our export carries the artifact's own diffs; other lines give only the fix and the test patch.
  const diff = (own: string, reversed: string) =>
    typeof instance[own] === "string"
      ? (instance[own] as string)
      : unwrapDiff(reverseDiff(text(reversed)), `${where}: ${reversed}`);
  const strategy = instance.strategy;
  const artifact: BugArtifact = {
    testScript: text("test_script"),
    testFiles: files as string[],
    testParser: text("test_parser"),
    bugInjectDiff: diff("bug_patch", "patch"),
    testWeakenDiff: diff("weaken_patch", "test_patch"),
    meta: {
      environment: place,
      strategy: strategy === "removal" || strategy === "history" ? strategy : "direct",
      order: instance.order === 2 ? 2 : 1,
      parentId: typeof instance.parent_id === "string" ? instance.parent_id : null,
      policy: `swebench:${text("instance_id")}`,
      createdAt: typeof instance.created_at === "string" ? instance.created_at : new Date(0).toISOString(),
    },
  };
  const pinned = instance.artifact_id;
  if (typeof pinned === "string" && pinned !== artifactId(artifact))
    throw new InputError(
      "task-artifact-changed",
      `${where}: the line's files hash to ${artifactId(artifact)}, not its artifact_id ${pinned}`,
    );
  return artifact;
}

function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Candidates from a store: every valid artifact on the environment it was validated on, with its solve rate. */
export function candidatesFromStore(store: SqliteStore): Candidate[] {
  return validArtifactRows(store).flatMap((row) => {
    const stored = store.getArtifact(row.artifactId);
    return stored ? [{ entry: taskEntry(stored.artifact, row.environment), solveRate: row.solveRate }] : [];
  });
}
