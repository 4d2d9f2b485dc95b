import { describe, expect, it } from "vitest";
import type { ChangeTracker } from "./change-tracking.js";
import type { CommandOutcome } from "./command-outcome.js";
import { SandboxBase, type SandboxBaseParts } from "./sandbox-base.js";

/** A sandbox whose freeing never ends (an engine or a file system that stopped answering). */
class StuckSandbox extends SandboxBase<SandboxBaseParts> {
  released = false;
  protected launch(): Promise<CommandOutcome> {
    throw new Error("not used");
  }
  protected launchFailed(): never {
    throw new Error("not used");
  }
  protected release(): Promise<void> {
    return new Promise(() => {});
  }
  protected releaseSync(): void {
    this.released = true;
  }
  readFile(): Promise<Buffer> {
    throw new Error("not used");
  }
  writeFile(): Promise<void> {
    throw new Error("not used");
  }
}

describe("SandboxBase.destroy", () => {
  it("returns after its limit when the freeing hangs, and leaves the sandbox to the exit hook", async () => {
    let destroyed = 0;
    const sandbox = new StuckSandbox({
      id: "stuck",
      spec: { environment: { kind: "dir", path: "/nonexistent" } },
      workdir: "/testbed",
      tracker: {} as ChangeTracker,
      indexFile: "/nonexistent/index",
      startTree: "0".repeat(40),
      defaultTimeoutMs: 1000,
      maxOutputBytes: 1024,
      onDestroyed: () => destroyed++,
      destroyLimitMs: 200,
    });
    await sandbox.destroy();
    // Not freed yet: still tracked, so the exit hook frees it synchronously.
    expect(destroyed).toBe(0);
    sandbox.destroySync();
    expect(sandbox.released).toBe(true);
    expect(destroyed).toBe(1);
  });
});
