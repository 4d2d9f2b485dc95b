// The local backend's account of what it holds (launchers, control groups, mounts, state directories) agrees
// with the system's own view while a command runs, and both are back to zero once its sandbox is destroyed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stateDirectories, systemView } from "../../../test/support/system-resources.js";
import { makeTempDir } from "../../../test/support/tmp.js";
import { noResources } from "../../ports/sandbox.js";
import { createLocalBackend } from "./backend.js";
import { detectCgroups } from "./cgroups.js";

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 3000; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting until ${what}`);
}

describe("the local backend's resources", () => {
  const scratch = makeTempDir("swe-selfplay-resources-");
  const environment = join(scratch.path, "repo");
  const runtimeDirectory = join(scratch.path, "runtime");
  mkdirSync(environment, { recursive: true });
  writeFileSync(join(environment, "file.txt"), "x\n");
  execFileSync("git", ["init", "--quiet"], { cwd: environment });
  const scope = { owners: [process.pid], runtimeDirectory };

  afterAll(() => scratch.remove());

  it("match the system's view during a command and are zero after destroy", async () => {
    const backend = createLocalBackend({ runtimeDirectory });
    try {
      const sandbox = await backend.create({ environment: { kind: "dir", path: environment } });
      const controller = new AbortController();
      const running = sandbox.run({
        command: "echo started > /tmp/mark; sleep 1000",
        abortSignal: controller.signal,
      });
      // The command writes its mark into the sandbox's /tmp, which is the state directory's tmp on the host.
      await until(
        () => stateDirectories(runtimeDirectory).some((state) => existsSync(join(state, "tmp", "mark"))),
        "the command runs",
      );
      const held = backend.resources();
      const seen = systemView(scope);
      const overlay = process.getuid?.() === 0;
      expect(held).toEqual({
        sandboxes: 1,
        processes: seen.launchers,
        mounts: seen.mounts,
        cgroups: seen.cgroups,
        containers: 0,
        temporaryDirectories: seen.stateDirectories,
      });
      expect(held.processes).toBe(1);
      expect(held.temporaryDirectories).toBe(1);
      expect(held.mounts).toBe(overlay ? 1 : 0);
      expect(held.cgroups > 0).toBe(detectCgroups() !== null);

      controller.abort();
      expect((await running).status).toBe("aborted");
      await sandbox.destroy();
      expect(backend.resources()).toEqual(noResources());
      expect(systemView(scope)).toEqual({
        launchers: 0,
        markedProcesses: 0,
        mounts: 0,
        cgroups: 0,
        stateDirectories: 0,
      });
    } finally {
      await backend.close();
    }
  });
});
