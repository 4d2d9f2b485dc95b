// The cached change-tracking base of an environment directory: a tracking repository, an index whose stat
// data lets sandboxes skip hashing unchanged files, and the tree id of the environment's content.

import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ChangeTracker, DEFAULT_IGNORES, type GitRunner } from "../change-tracking.js";

export interface EnvironmentBase {
  /** The environment directory (real path). */
  source: string;
  gitDir: string;
  /** Index of the environment's content; copy it, never write it. */
  indexFile: string;
  tree: string;
}

/**
 * Creates or refreshes the base for `source`. Refreshing reuses the cached index, so only files whose
 * size or mtime changed are hashed again. Safe when several processes do it at once.
 */
export async function prepareEnvironmentBase(
  runtimeDirectory: string,
  source: string,
  runner: GitRunner,
  ignores: readonly string[] = DEFAULT_IGNORES,
): Promise<EnvironmentBase> {
  const key = createHash("sha256").update(source).digest("hex").slice(0, 20);
  const directory = join(runtimeDirectory, "environments", key);
  const unique = `${process.pid}-${randomBytes(4).toString("hex")}`;
  if (!(await exists(join(directory, "base.tree")))) {
    const building = `${directory}.building-${unique}`;
    await mkdir(join(building, "git"), { recursive: true, mode: 0o700 });
    const tracker = new ChangeTracker(runner, { gitDir: join(building, "git"), workTree: source });
    await tracker.initialize(ignores);
    const tree = await tracker.stage(join(building, "base.index"));
    await writeFile(join(building, "base.tree"), tree);
    await writeFile(join(building, "source"), source);
    try {
      await rename(building, directory);
    } catch {
      // another process finished first: use its base (refreshed below)
      await rm(building, { recursive: true, force: true });
    }
  }
  const gitDir = join(directory, "git");
  const indexFile = join(directory, "base.index");
  await runner.writeFile(join(gitDir, "info", "exclude"), `${ignores.join("\n")}\n`);
  const tracker = new ChangeTracker(runner, { gitDir, workTree: source });
  const refreshed = `${indexFile}.${unique}`;
  await runner.copyFile(indexFile, refreshed);
  const tree = await tracker.stage(refreshed);
  const stored = (await readFile(join(directory, "base.tree"), "utf8")).trim();
  await rename(refreshed, indexFile);
  if (tree !== stored) {
    await writeFile(join(directory, `base.tree.${unique}`), tree);
    await rename(join(directory, `base.tree.${unique}`), join(directory, "base.tree"));
  }
  return { source, gitDir, indexFile, tree };
}

/**
 * Removes cached bases whose environment directory is gone (temporary checkouts, deleted fixtures), and
 * half-built ones older than an hour. Bases in use always have an existing source.
 */
export async function removeOrphanedBases(runtimeDirectory: string): Promise<number> {
  const directory = join(runtimeDirectory, "environments");
  let removed = 0;
  for (const name of await readdir(directory)) {
    const path = join(directory, name);
    try {
      if (name.includes(".building-")) {
        if (Date.now() - (await stat(path)).mtimeMs < 3600_000) continue;
      } else {
        const source = (await readFile(join(path, "source"), "utf8").catch(() => "")).trim();
        if (source === "" || (await exists(source))) continue;
      }
      await rm(path, { recursive: true, force: true });
      removed++;
    } catch {
      // being removed by another process
    }
  }
  return removed;
}

/** Whether anything is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
