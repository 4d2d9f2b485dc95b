// The local backend's private state on the host: one directory per sandbox (workspace, /tmp, index,
// owner record) and cached change-tracking bases per environment; leftovers of dead processes are removed.

import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InfrastructureError } from "../../errors.js";
import { createLogger } from "../../log.js";
import { removeStateDirectory } from "./workspace.js";

const log = createLogger("sandbox.local");

/** $XDG_RUNTIME_DIR/swe-selfplay when set, else <tmp>/swe-selfplay-<uid>; private to this user. */
export function defaultRuntimeDirectory(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime) return join(runtime, "swe-selfplay");
  return join(tmpdir(), `swe-selfplay-${process.getuid?.() ?? "user"}`);
}

/** Creates the directory (mode 0700) and refuses one that another user owns or others can open. */
export function ensurePrivateDirectory(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const status = statSync(path);
  const uid = process.getuid?.();
  if ((uid !== undefined && status.uid !== uid) || (status.mode & 0o077) !== 0) {
    throw new InfrastructureError(
      "runtime-directory-unsafe",
      `runtime directory ${path} is owned by uid ${status.uid} or open to others (mode ${(status.mode & 0o777).toString(8)}); remove it or choose another runtimeDirectory`,
      { data: { path } },
    );
  }
  mkdirSync(join(path, "sandboxes"), { recursive: true, mode: 0o700 });
  mkdirSync(join(path, "environments"), { recursive: true, mode: 0o700 });
}

/** "pid starttime": identifies a process even after its pid is reused. */
export function ownerRecord(pid = process.pid): string {
  return `${pid} ${processStartTime(pid) ?? 0}`;
}

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function isOwnerAlive(record: string): boolean {
  const [pid, start] = record.trim().split(" ");
  if (!pid) return false;
  const current = processStartTime(Number(pid));
  return current !== undefined && (start === "0" || current === start);
}

export function writeOwner(stateDirectory: string): void {
  writeFileSync(join(stateDirectory, "owner"), ownerRecord());
}

/** Removes /etc views other than `current` built over a day ago (half-built ones after ten minutes). */
export function removeStaleSystemViews(directory: string, current: string): void {
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (path === current || !name.startsWith("etc-")) continue;
    try {
      const limit = name.includes(".building-") ? 600_000 : 24 * 3600_000;
      if (Date.now() - statSync(path).mtimeMs < limit) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
  }
}

/** Removes sandbox directories (unmounting overlays first) whose owning process is gone. */
export async function removeStaleSandboxes(runtimeDirectory: string): Promise<number> {
  const sandboxes = join(runtimeDirectory, "sandboxes");
  let removed = 0;
  for (const name of readdirSync(sandboxes)) {
    const stateDirectory = join(sandboxes, name);
    let owner = "";
    try {
      owner = readFileSync(join(stateDirectory, "owner"), "utf8");
    } catch {
      // a directory without owner record was being created or half removed; age decides
      try {
        if (Date.now() - statSync(stateDirectory).mtimeMs < 60_000) continue;
      } catch {
        continue;
      }
    }
    if (owner && isOwnerAlive(owner)) continue;
    try {
      await removeStateDirectory(stateDirectory);
      removed++;
    } catch (error) {
      log.warn("cannot remove stale sandbox", { path: stateDirectory, error: String(error) });
    }
  }
  if (removed > 0) log.info("removed stale sandboxes", { count: removed });
  return removed;
}
