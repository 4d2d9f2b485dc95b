// Every live sandbox of this process, destroyed on SIGINT/SIGTERM and (synchronously, best effort) on exit,
// so that no workspace, mount or process outlives the program. Used by every backend.

import { createLogger } from "../log.js";

export interface Destroyable {
  readonly id: string;
  destroy(): Promise<void>;
  /** Best-effort synchronous cleanup for the 'exit' event, where nothing asynchronous runs. */
  destroySync(): void;
}

const live = new Map<string, Destroyable>();
const log = createLogger("sandbox.registry");
let installed = false;

/** Tracks a sandbox until `untrack` is called (from its destroy). */
export function track(sandbox: Destroyable): () => void {
  install();
  live.set(sandbox.id, sandbox);
  return () => {
    live.delete(sandbox.id);
  };
}

/** Sandboxes currently alive in this process. */
export function liveSandboxes(): Destroyable[] {
  return [...live.values()];
}

/** Destroys every live sandbox (used by signal handlers and by tests). */
export async function destroyAll(): Promise<void> {
  await Promise.allSettled([...live.values()].map((sandbox) => sandbox.destroy()));
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", () => {
    for (const sandbox of live.values()) {
      try {
        sandbox.destroySync();
      } catch (error) {
        process.stderr.write(`sandbox ${sandbox.id}: cleanup at exit failed: ${String(error)}\n`);
      }
    }
    live.clear();
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const handler = () => {
      // When the program has its own handler it owns shutdown (and destroys its sandboxes); the 'exit'
      // hook above stays the backstop. Otherwise clean up and die of the same signal.
      if (process.listenerCount(signal) > 1) return;
      if (live.size > 0) log.info(`${signal}: destroying ${live.size} sandbox(es)`);
      void destroyAll().finally(() => {
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      });
    };
    // First in line, so a program's own handler is still counted when it was registered with once().
    process.prependListener(signal, handler);
  }
}
