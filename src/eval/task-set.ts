// A frozen task set: a JSON file pinning each task's artifact by content id (and carrying the artifact's
// five files), so a set means the same tasks forever; a task whose files no longer hash to its id is refused.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { artifactId } from "../artifact/index.js";
import { errorMessage, InputError } from "../errors.js";
import type { BugArtifact } from "../ports/artifact.js";
import { STRATEGIES } from "../ports/artifact.js";

export const TASK_SET_SCHEMA = "swe-selfplay.task-set.v1";

const artifactFilesSchema = z.object({
  test_script: z.string(),
  test_files: z.array(z.string()),
  test_parser: z.string(),
  bug_inject_diff: z.string(),
  test_weaken_diff: z.string(),
  meta: z.record(z.string(), z.unknown()),
});

const taskSchema = z.object({
  artifact_id: z.string().regex(/^[0-9a-f]{64}$/, "a 64-digit hex content id"),
  environment: z.string().min(1),
  strategy: z.string(),
  order: z.union([z.literal(1), z.literal(2)]),
  /** The artifact's files; without them the id is looked up in the store. */
  artifact: artifactFilesSchema.optional(),
});

export const taskSetSchema = z.object({
  schema: z.literal(TASK_SET_SCHEMA),
  name: z.string().min(1),
  created_at: z.string(),
  /** How the set was made (source, filters, seed), for the record. */
  source: z.record(z.string(), z.unknown()),
  tasks: z.array(taskSchema).min(1, "a task set needs at least one task"),
});

export type TaskSetFile = z.infer<typeof taskSetSchema>;
export type TaskEntry = z.infer<typeof taskSchema>;

/** One task of a set, its artifact resolved. */
export interface EvalTask {
  /** Position in the set (stable: the set's order). */
  index: number;
  artifactId: string;
  environment: string;
  strategy: string;
  order: 1 | 2;
  artifact: BugArtifact;
}

/** A task as the set file writes it. */
export function taskEntry(artifact: BugArtifact, environment: string): TaskEntry {
  return {
    artifact_id: artifactId(artifact),
    environment,
    strategy: artifact.meta.strategy,
    order: artifact.meta.order,
    artifact: {
      test_script: artifact.testScript,
      test_files: [...artifact.testFiles],
      test_parser: artifact.testParser,
      bug_inject_diff: artifact.bugInjectDiff,
      test_weaken_diff: artifact.testWeakenDiff,
      meta: { ...artifact.meta },
    },
  };
}

/** The set's identity: a hash of its tasks (ids and environments, in order), not of its name or date. */
export function taskSetId(set: TaskSetFile): string {
  const hash = createHash("sha256");
  for (const task of set.tasks) hash.update(`${task.artifact_id}\t${task.environment}\n`);
  return hash.digest("hex").slice(0, 16);
}

export function writeTaskSet(path: string, set: TaskSetFile): void {
  writeFileSync(path, `${JSON.stringify(set, null, 2)}\n`);
}

/** Reads and checks a set file; a bad file is an InputError naming the file and the first problem. */
export function readTaskSet(path: string): TaskSetFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InputError("task-set-unreadable", `task set ${path}: ${errorMessage(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError("task-set-not-json", `task set ${path} is not JSON: ${errorMessage(error)}`);
  }
  const parsed = taskSetSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(
      "task-set-invalid",
      `task set ${path}: ${issue.path.join(".") || "(top)"}: ${issue.message}`,
    );
  }
  const seen = new Set<string>();
  parsed.data.tasks.forEach((task, index) => {
    const key = `${task.artifact_id}\t${task.environment}`;
    if (seen.has(key))
      throw new InputError(
        "task-set-duplicate",
        `task set ${path}: tasks.${index} repeats artifact ${task.artifact_id} on ${task.environment}`,
      );
    seen.add(key);
  });
  return parsed.data;
}

/**
 * The set's tasks with their artifacts: the files the set carries (which must hash to the pinned id), or
 * the stored artifact of that id. An unknown id or a changed artifact is an InputError naming the task.
 */
export function resolveTasks(
  set: TaskSetFile,
  path: string,
  lookup: (id: string) => BugArtifact | null,
): EvalTask[] {
  return set.tasks.map((task, index) => {
    const where = `task set ${path}, tasks.${index}`;
    let artifact: BugArtifact | null;
    if (task.artifact) {
      artifact = artifactFromEntry(task.artifact);
      const actual = artifactId(artifact);
      if (actual !== task.artifact_id)
        throw new InputError(
          "task-artifact-changed",
          `${where}: the artifact's files hash to ${actual}, not the pinned ${task.artifact_id}: the set was edited; make it again`,
        );
    } else {
      artifact = lookup(task.artifact_id);
      if (!artifact)
        throw new InputError(
          "unknown-artifact",
          `${where}: unknown artifact id ${task.artifact_id} (not in the set file, not in the store)`,
        );
    }
    return {
      index,
      artifactId: task.artifact_id,
      environment: task.environment,
      strategy: task.strategy,
      order: task.order,
      artifact,
    };
  });
}

function artifactFromEntry(files: NonNullable<TaskEntry["artifact"]>): BugArtifact {
  const meta = files.meta as unknown as BugArtifact["meta"];
  return {
    testScript: files.test_script,
    testFiles: [...files.test_files],
    testParser: files.test_parser,
    bugInjectDiff: files.bug_inject_diff,
    testWeakenDiff: files.test_weaken_diff,
    meta: {
      ...meta,
      strategy: STRATEGIES.includes(meta.strategy) ? meta.strategy : "direct",
      order: meta.order === 2 ? 2 : 1,
    },
  };
}
