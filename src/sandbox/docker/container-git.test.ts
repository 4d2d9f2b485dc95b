// The container git runner needs only an exec function: here commands run on the host through a plain
// child process, with no container and no Docker, and change tracking works the same.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ChangeTracker } from "../change-tracking.js";
import { CommandWatch } from "../command-outcome.js";
import { type ContainerExec, createContainerGitRunner } from "./container-git.js";

/** Runs an argument vector on the host, as an exec into a container would. */
const hostExec: ContainerExec = (options) =>
  new Promise((resolve, reject) => {
    const [program, ...args] =
      typeof options.command === "string" ? ["bash", "-c", options.command] : options.command;
    const child = spawn(program!, args, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env },
    });
    const watch = new CommandWatch({ ...options, onStop: () => child.kill("SIGKILL") });
    child.stdout.on("data", (chunk: Buffer) => watch.stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => watch.stderr.push(chunk));
    child.stdin.on("error", () => undefined);
    child.on("error", reject);
    child.on("close", (code) => {
      watch.end();
      resolve(watch.outcome(code));
    });
    watch.start();
    child.stdin.end(options.stdin ?? "");
  });

describe("container git over a plain exec function", () => {
  const scratch = mkdtempSync(join(tmpdir(), "swe-selfplay-container-git-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("tracks, diffs and applies changes, writing its files through exec when no file fast path is given", async () => {
    const workTree = join(scratch, "work");
    mkdirSync(workTree);
    writeFileSync(join(workTree, "a.txt"), "one\n");
    const commands: string[] = [];
    const runner = createContainerGitRunner(
      {
        name: "host",
        exec: (options) => {
          commands.push([options.command].flat().join(" "));
          return hostExec(options);
        },
      },
      { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
    );
    const tracker = new ChangeTracker(runner, { gitDir: join(scratch, "nested", "base.git"), workTree });
    await tracker.initialize();
    const index = join(scratch, "nested", "base.git", "sandbox.index");
    const start = await tracker.stage(index);
    writeFileSync(join(workTree, "a.txt"), "two\n");
    const diff = await tracker.diffTrees(start, await tracker.stage(index), index);
    expect(diff).toContain("-one\n+two\n");
    expect(commands.some((command) => command.startsWith("sh -c mkdir -p"))).toBe(true);
    writeFileSync(join(workTree, "a.txt"), "one\n");
    expect(await tracker.apply(diff, index)).toMatchObject({ status: "applied", files: ["a.txt"] });
  });
});
