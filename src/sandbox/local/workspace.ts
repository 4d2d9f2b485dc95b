// A sandbox's private, writable copy of an environment directory: an overlay mount (fast, root only),
// a reflink copy (fast on btrfs/xfs) or a plain copy. Removal never crosses into a still-mounted tree.

import { execFile, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { InfrastructureError } from "../../errors.js";
import type { WorkspaceStrategy } from "../../ports/sandbox.js";
import { exists } from "./environment-base.js";
import { mountRequest } from "./mount-helper.js";

const run = promisify(execFile);

export { WORKSPACE_STRATEGIES, type WorkspaceStrategy } from "../../ports/sandbox.js";
export type ConcreteStrategy = Exclude<WorkspaceStrategy, "auto">;

export interface Workspace {
  /** Directory that holds the repository's files (bound at /testbed). */
  readonly path: string;
  readonly strategy: ConcreteStrategy;
}

/** Workspaces kept inside a sandbox's state directory besides its own (the Go build cache view). */
export const NESTED_STATES = ["go-cache"] as const;

/** Characters the overlay option parser would misread; such paths use a copy instead. */
const UNSAFE_FOR_OVERLAY = /[,:\\\s]/;

/**
 * Creates the workspace under `stateDirectory` (which must exist). "auto" tries overlay first and falls back
 * to a reflink-when-possible copy; explicit strategies fail with an InfrastructureError when impossible.
 */
export async function createWorkspace(
  source: string,
  stateDirectory: string,
  strategy: WorkspaceStrategy,
): Promise<Workspace> {
  if (strategy === "overlay" || strategy === "auto") {
    const outcome = await mountOverlay(source, stateDirectory);
    if (outcome.status === "mounted") return { path: outcome.path, strategy: "overlay" };
    if (strategy === "overlay") {
      throw new InfrastructureError(
        "overlay-unavailable",
        `cannot mount an overlay of ${source}: ${outcome.reason}. Run as root on a kernel with overlayfs, or choose workspace "reflink" or "copy"`,
        { data: { source } },
      );
    }
  }
  const path = join(stateDirectory, "tree");
  const reflink = strategy === "copy" ? "never" : strategy === "reflink" ? "always" : "auto";
  try {
    await run("cp", ["-a", `--reflink=${reflink}`, "--", source, path]);
  } catch (error) {
    throw new InfrastructureError(
      "workspace-copy-failed",
      `cp -a --reflink=${reflink} ${source} failed: ${(error as { stderr?: string }).stderr?.trim() || String(error)}` +
        (strategy === "reflink" ? ' (the filesystem may not support reflinks; use workspace "copy")' : ""),
      { data: { source }, cause: error },
    );
  }
  return { path, strategy: strategy === "auto" ? "reflink" : strategy };
}

async function mountOverlay(
  source: string,
  stateDirectory: string,
): Promise<{ status: "mounted"; path: string } | { status: "failed"; reason: string }> {
  if (process.getuid?.() !== 0) return { status: "failed", reason: "mounting requires root" };
  if (UNSAFE_FOR_OVERLAY.test(source) || UNSAFE_FOR_OVERLAY.test(stateDirectory)) {
    return { status: "failed", reason: "path contains a comma, colon, backslash or space" };
  }
  const upper = join(stateDirectory, "upper");
  const work = join(stateDirectory, "work");
  const merged = join(stateDirectory, "merged");
  await Promise.all([mkdir(upper), mkdir(work), mkdir(merged)]);
  const options = `lowerdir=${source},upperdir=${upper},workdir=${work}`;
  const reply = await mountRequest({ op: "mount", target: merged, options });
  if (reply?.status === "done") return { status: "mounted", path: merged };
  if (reply?.status === "failed") return { status: "failed", reason: reply.error };
  try {
    await run("mount", ["-t", "overlay", "overlay", "-o", options, merged]);
    return { status: "mounted", path: merged };
  } catch (error) {
    return { status: "failed", reason: (error as { stderr?: string }).stderr?.trim() || String(error) };
  }
}

/** True when `path` is on another filesystem than its parent: always so for a mounted overlay. */
function hasOwnDevice(path: string): boolean {
  try {
    return statSync(path).dev !== statSync(join(path, "..")).dev;
  } catch {
    return false;
  }
}

/** True when `path` is a mount point (its device differs from its parent's, or mountinfo lists it). */
function isMountPoint(path: string): boolean {
  try {
    if (statSync(path).dev !== statSync(join(path, "..")).dev) return true;
  } catch {
    return false;
  }
  try {
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .some((line) => line.split(" ")[4] === path);
  } catch {
    return false;
  }
}

function unmountSync(path: string): void {
  if (!isMountPoint(path)) return;
  let result = spawnSync("umount", [path], { encoding: "utf8" });
  if (result.status !== 0) result = spawnSync("umount", ["-l", path], { encoding: "utf8" });
  if (isMountPoint(path)) {
    throw new InfrastructureError(
      "workspace-unmount-failed",
      `cannot unmount ${path}: ${result.stderr?.trim()}`,
      {
        data: { path },
      },
    );
  }
}

/**
 * Removes a sandbox state directory (workspace included). An overlay is unmounted first, and removal
 * refuses to run while anything below is still mounted, so the environment itself can never be deleted.
 */
export async function removeStateDirectory(stateDirectory: string): Promise<void> {
  for (const nested of NESTED_STATES) {
    const path = join(stateDirectory, nested);
    if (await exists(path)) await removeStateDirectory(path);
  }
  const merged = join(stateDirectory, "merged");
  if (await exists(merged)) {
    if (hasOwnDevice(merged)) {
      const reply = await mountRequest({ op: "unmount", target: merged });
      if (reply?.status !== "done") {
        try {
          await run("umount", [merged]);
        } catch {
          await run("umount", ["-l", merged]).catch(() => undefined);
        }
      }
    }
    // Only the overlay is ever mounted here, and an overlay always has its own device.
    if (hasOwnDevice(merged)) {
      throw new InfrastructureError(
        "workspace-unmount-failed",
        `${merged} is still mounted; not removing ${stateDirectory}`,
        { data: { stateDirectory } },
      );
    }
  }
  await rm(stateDirectory, { recursive: true, force: true });
}

/** Synchronous variant for process exit. */
export function removeStateDirectorySync(stateDirectory: string): void {
  for (const nested of NESTED_STATES) {
    const path = join(stateDirectory, nested);
    if (existsSync(path)) removeStateDirectorySync(path);
  }
  const merged = join(stateDirectory, "merged");
  try {
    statSync(merged);
    unmountSync(merged);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  rmSync(stateDirectory, { recursive: true, force: true });
}
