// Caps the sandboxes alive at once across every stage. A holder that creates more sandboxes for itself
// (a proposer self-validating, a validation fanning out) is not held back, or two holders waiting for each
// other's slot would deadlock; `holdingSandbox` marks such code.
import { AsyncLocalStorage } from "node:async_hooks";
import { Semaphore } from "../concurrency/semaphore.js";
import type { Sandbox, SandboxBackend, SandboxSpec } from "../ports/sandbox.js";

const holding = new AsyncLocalStorage<boolean>();

/** Runs `work` as code that already holds a sandbox: sandboxes it creates bypass the cap. */
export function holdingSandbox<T>(work: () => Promise<T>): Promise<T> {
  return holding.run(true, work);
}

export interface LimitedSandboxBackend extends SandboxBackend {
  readonly slots: Semaphore;
}

export function limitSandboxes(
  backend: SandboxBackend,
  limit: number,
  abortSignal?: AbortSignal,
): LimitedSandboxBackend {
  const slots = new Semaphore("sandboxes", limit);
  return {
    kind: backend.kind,
    slots,
    async create(spec: SandboxSpec): Promise<Sandbox> {
      if (holding.getStore()) return backend.create(spec);
      const release = await slots.acquire(abortSignal);
      let sandbox: Sandbox;
      try {
        sandbox = await backend.create(spec);
      } catch (error) {
        release();
        throw error;
      }
      return withRelease(sandbox, release);
    },
    close: () => backend.close(),
  };
}

function withRelease(sandbox: Sandbox, release: () => void): Sandbox {
  return {
    get id() {
      return sandbox.id;
    },
    get workdir() {
      return sandbox.workdir;
    },
    get spec() {
      return sandbox.spec;
    },
    run: (options) => sandbox.run(options),
    readFile: (path) => sandbox.readFile(path),
    writeFile: (path, content, options) => sandbox.writeFile(path, content, options),
    diff: () => sandbox.diff(),
    applyPatch: (diff) => sandbox.applyPatch(diff),
    snapshot: () => sandbox.snapshot(),
    async destroy() {
      try {
        await sandbox.destroy();
      } finally {
        release();
      }
    },
  };
}
