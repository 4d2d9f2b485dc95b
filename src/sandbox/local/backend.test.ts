// Local-backend specifics: workspace strategies, cleanup after crashes and signals, base caching,
// ignores, and the error when bubblewrap is missing. Behaviour shared with Docker is in test/sandbox.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../../test/support/cli.js";
import { makeTempDir } from "../../../test/support/tmp.js";
import { InputError } from "../../errors.js";
import { createLocalBackend } from "./backend.js";

const holder = join(projectRoot, "test", "sandbox", "hold-sandbox.ts");

function isMounted(path: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === path);
}

function hostProcessesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(marker)) found.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function listing(directory: string): string {
  return execFileSync("sh", ["-c", "find . -type f -exec sha256sum {} + | sort"], {
    cwd: directory,
    encoding: "utf8",
  });
}

/** Starts the holder script; resolves with its first output line (parsed) and the process. */
function startHolder(
  mode: "hold" | "exit" | "create" | "run" | "graceful",
  runtimeDirectory: string,
  environment: string,
  env: Record<string, string> = {},
  marker = "",
): Promise<{
  child: ChildProcess;
  line: { id?: string; workspace?: string; error?: Record<string, string> };
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", holder, mode, runtimeDirectory, environment, marker],
      {
        cwd: projectRoot,
        env: { ...process.env, SWE_SELFPLAY_LOG: "silent", ...env },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let buffered = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf("\n");
      if (newline >= 0) resolve({ child, line: JSON.parse(buffered.slice(0, newline)) });
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (!buffered.includes("\n")) reject(new Error(`holder exited with ${code} before reporting`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.on("close", () => resolve()));
}

describe("local backend", () => {
  const scratch = makeTempDir("swe-selfplay-local-");
  const runtimeDirectory = join(scratch.path, "runtime");
  const environment = join(scratch.path, "repo");

  beforeAll(() => {
    mkdirSync(join(environment, "pkg"), { recursive: true });
    writeFileSync(join(environment, "pkg", "core.py"), "def answer():\n    return 42\n");
    writeFileSync(join(environment, "notes.txt"), "keep me\n");
    writeFileSync(join(environment, ".gitignore"), "*.log\n");
    execFileSync("git", ["init", "--quiet"], { cwd: environment });
  });

  afterAll(() => scratch.remove());

  for (const workspace of ["overlay", "copy"] as const) {
    it(`${workspace} workspaces change only the sandbox, never the environment`, async () => {
      const before = listing(environment);
      const backend = createLocalBackend({ runtimeDirectory, workspace });
      try {
        const sandbox = await backend.create({ environment: { kind: "dir", path: environment } });
        const result = await sandbox.run({
          command:
            "rm notes.txt && echo 'def answer():\n    return 41' > pkg/core.py && echo new > added.txt && ls",
        });
        expect(result.exitCode).toBe(0);
        const diff = await sandbox.diff();
        expect(diff).toContain("deleted file mode 100644");
        expect(diff).toContain("+    return 41");
        expect(diff).toContain("added.txt");
        expect(listing(environment)).toBe(before);
        await sandbox.destroy();
        expect(existsSync(sandbox.workspacePath)).toBe(false);
      } finally {
        await backend.close();
      }
      expect(listing(environment)).toBe(before);
    });
  }

  it("leaves ignored files and test caches out of diffs", async () => {
    const backend = createLocalBackend({ runtimeDirectory });
    try {
      const sandbox = await backend.create({ environment: { kind: "dir", path: environment } });
      await sandbox.run({
        command:
          "echo log > run.log && python3 -c 'import pkg.core' && ls pkg/__pycache__ && mkdir -p .pytest_cache && touch .pytest_cache/x",
      });
      expect(await sandbox.diff()).toBe("");
    } finally {
      await backend.close();
    }
  });

  it("refreshes the cached base when the environment changed between backends", async () => {
    const copy = join(scratch.path, "changing");
    mkdirSync(copy, { recursive: true });
    writeFileSync(join(copy, "value.txt"), "one\n");
    const first = createLocalBackend({ runtimeDirectory });
    const sandbox = await first.create({ environment: { kind: "dir", path: copy } });
    expect(await sandbox.diff()).toBe("");
    await first.close();
    writeFileSync(join(copy, "value.txt"), "two, longer\n");
    const second = createLocalBackend({ runtimeDirectory });
    try {
      const again = await second.create({ environment: { kind: "dir", path: copy } });
      expect((await again.readFile("value.txt")).toString()).toBe("two, longer\n");
      expect(await again.diff()).toBe("");
    } finally {
      await second.close();
    }
  });

  it("drops the cached base of an environment directory that was deleted", async () => {
    const doomed = join(scratch.path, "doomed");
    mkdirSync(doomed, { recursive: true });
    writeFileSync(join(doomed, "file.txt"), "soon gone\n");
    const first = createLocalBackend({ runtimeDirectory });
    await first.create({ environment: { kind: "dir", path: doomed } });
    await first.close();
    const bases = () =>
      readdirSync(join(runtimeDirectory, "environments")).filter(
        (name) =>
          existsSync(join(runtimeDirectory, "environments", name, "source")) &&
          readFileSync(join(runtimeDirectory, "environments", name, "source"), "utf8") === doomed,
      );
    expect(bases()).toHaveLength(1);
    rmSync(doomed, { recursive: true });
    const second = createLocalBackend({ runtimeDirectory });
    try {
      await second.create({ environment: { kind: "dir", path: environment } });
      expect(bases()).toHaveLength(0);
    } finally {
      await second.close();
    }
  });

  it("rejects image and missing environments as input errors", async () => {
    const backend = createLocalBackend({ runtimeDirectory });
    try {
      await expect(backend.create({ environment: { kind: "image", image: "x" } })).rejects.toBeInstanceOf(
        InputError,
      );
      await expect(
        backend.create({ environment: { kind: "dir", path: join(scratch.path, "absent") } }),
      ).rejects.toBeInstanceOf(InputError);
    } finally {
      await backend.close();
    }
  });

  it("removes what a killed process left behind (mount included) when the next backend starts", async () => {
    const { child, line } = await startHolder("hold", runtimeDirectory, environment);
    const workspace = line.workspace!;
    expect(isMounted(workspace)).toBe(true);
    child.kill("SIGKILL");
    await exited(child);
    expect(isMounted(workspace)).toBe(true);
    const backend = createLocalBackend({ runtimeDirectory });
    try {
      await backend.create({ environment: { kind: "dir", path: environment } });
      expect(isMounted(workspace)).toBe(false);
      expect(existsSync(dirname(workspace))).toBe(false);
      expect(readFileSync(join(environment, "notes.txt"), "utf8")).toBe("keep me\n");
    } finally {
      await backend.close();
    }
  });

  it("destroys live sandboxes on SIGTERM and on exit", async () => {
    const held = await startHolder("hold", runtimeDirectory, environment);
    held.child.kill("SIGTERM");
    await exited(held.child);
    expect(held.child.signalCode).toBe("SIGTERM");
    expect(isMounted(held.line.workspace!)).toBe(false);
    expect(existsSync(dirname(held.line.workspace!))).toBe(false);
    const quitting = await startHolder("exit", runtimeDirectory, environment);
    await exited(quitting.child);
    expect(isMounted(quitting.line.workspace!)).toBe(false);
    expect(existsSync(dirname(quitting.line.workspace!))).toBe(false);
  });

  it("leaves SIGTERM to a program's own handler, also one registered before the first sandbox", async () => {
    // The handler was registered with once(): it is gone by the time later listeners run, which made the
    // registry think nobody handled the signal and kill the program in the middle of its own shutdown.
    const held = await startHolder("graceful", runtimeDirectory, environment);
    held.child.kill("SIGTERM");
    await exited(held.child);
    expect({ code: held.child.exitCode, signal: held.child.signalCode }).toEqual({ code: 0, signal: null });
    expect(existsSync(dirname(held.line.workspace!))).toBe(false);
  });

  it("kills a running command when its program dies", async () => {
    const marker = `orphan-${process.pid}-${Date.now()}`;
    const { child } = await startHolder("run", runtimeDirectory, environment, {}, marker);
    // Processes of the sandbox only: the holder's own command line carries the marker too.
    const running = () => hostProcessesWith(marker).filter((pid) => pid !== child.pid).length;
    const deadline = Date.now() + 20_000;
    while (running() === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(running()).toBeGreaterThan(0);
    child.kill("SIGKILL");
    await exited(child);
    const gone = Date.now() + 10_000;
    while (running() > 0 && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 50));
    const survivors = hostProcessesWith(marker)
      .filter((pid) => pid !== child.pid)
      .map((pid) => {
        try {
          return `${pid} ${readFileSync(`/proc/${pid}/stat`, "utf8").split(" ").slice(2, 4).join(" ")} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").slice(0, 80)}`;
        } catch {
          return `${pid} gone`;
        }
      });
    expect(survivors).toEqual([]);
    // The next backend removes the workspace the killed program left mounted.
    const backend = createLocalBackend({ runtimeDirectory });
    await backend.create({ environment: { kind: "dir", path: environment } });
    await backend.close();
  });

  it("fails with the install command when bubblewrap is missing", async () => {
    const { child, line } = await startHolder("create", runtimeDirectory, environment, {
      PATH: "/nonexistent",
    });
    await exited(child);
    expect(line.error).toMatchObject({ name: "InfrastructureError", code: "bubblewrap-missing" });
    expect(line.error!.message).toContain("apt-get install bubblewrap");
  });
});
