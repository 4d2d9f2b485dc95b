// What every sandbox backend does the same way: its defaults, the starting patches of a new sandbox, and the
// set of sandboxes it still holds (each also tracked by the process-wide registry until destroyed).

import { InputError } from "../errors.js";
import type { ResourceLimits } from "../ports/sandbox.js";
import type { ChangeTracker } from "./change-tracking.js";
import { type Destroyable, track } from "./registry.js";

/** Limits of sandboxes whose spec and backend set none. */
export const DEFAULT_LIMITS: Required<Pick<ResourceLimits, "pids" | "memoryBytes">> = {
  pids: 1024,
  memoryBytes: 4 * 1024 ** 3,
};

/** Timeout of a command that sets none. */
export const DEFAULT_TIMEOUT_MS = 30 * 60_000;

/** Cap per output stream of a command that sets none. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Applies a new sandbox's patches in order and stages the result; returns its tree, or null when there are
 * no patches (the environment's own tree is the start). A patch that does not apply is the caller's input
 * error, naming its position and `source`.
 */
export async function applyStartingPatches(
  tracker: ChangeTracker,
  indexFile: string,
  patches: readonly string[],
  source: string,
): Promise<string | null> {
  for (const [position, patch] of patches.entries()) {
    const applied = await tracker.apply(patch, indexFile);
    if (applied.status === "rejected") {
      throw new InputError(
        "patch-rejected",
        `patch ${position + 1} of ${patches.length} does not apply to ${source}: ${applied.message}`,
        { data: { patchIndex: position, file: applied.file, hunk: applied.hunk } },
      );
    }
  }
  return patches.length > 0 ? tracker.stage(indexFile) : null;
}

/** The sandboxes one backend created and that are not destroyed yet. */
export class LiveSandboxes<S extends Destroyable> {
  private readonly live = new Set<S>();

  /** Sandboxes held right now. */
  get size(): number {
    return this.live.size;
  }

  /** Makes a sandbox with the callback its destroy must call, and holds it until then. */
  adopt(make: (onDestroyed: () => void) => S): S {
    let untrack = () => {};
    const sandbox = make(() => {
      this.live.delete(sandbox);
      untrack();
    });
    this.live.add(sandbox);
    untrack = track(sandbox);
    return sandbox;
  }

  /** Destroys every sandbox still held; failures are left to each sandbox's own cleanup. */
  async destroyAll(): Promise<void> {
    await Promise.allSettled([...this.live].map((sandbox) => sandbox.destroy()));
  }
}
