// A command whose launcher (the outer bwrap) ends at any stage still ends, with a true status, and leaves no
// process behind. Before the launcher's namespace init has finished its set-up it does not die with the
// launcher and, as pid 1 of its namespace, ignores every signal but SIGKILL: it used to keep the command's
// output open, so the command's result never came. Also: output held open by something the kill cannot
// reach delays a result by the grace at most.

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../test/support/tmp.js";
import type { Sandbox, SandboxBackend } from "../../ports/sandbox.js";
import { createLocalBackend } from "./backend.js";
import { execute } from "./execute.js";
import { LAUNCHER_VARIABLE, RUN_TAG_VARIABLE, sweepOrphanedLaunchers } from "./launcher-marker.js";

interface HostProcess {
  pid: number;
  ppid: number;
  state: string;
  command: string;
}

function hostProcesses(): HostProcess[] {
  const found: HostProcess[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const command = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ");
      found.push({ pid: Number(name), ppid: Number(fields[1]), state: fields[0]!, command });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Live processes whose command line holds `marker` (only the processes this test started carry it). */
function withMarker(marker: string): HostProcess[] {
  return hostProcesses().filter((entry) => entry.state !== "Z" && entry.command.includes(marker));
}

/** The outer bwrap of the command carrying `marker`: a child of this process. */
function launcherOf(marker: string): number {
  const launcher = withMarker(marker).find((entry) => entry.ppid === process.pid);
  if (!launcher) throw new Error(`no launcher carries ${marker}`);
  return launcher.pid;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function state(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 6000; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting until ${what}`);
}

function spinUntil(condition: () => boolean): void {
  const deadline = Date.now() + 10_000;
  while (!condition() && Date.now() < deadline) {
    // busy: the event loop must not run (it would open the gate)
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

/** Kills what a failed assertion may have left of this test's own processes. */
function cleanUp(marker: string): void {
  for (const entry of withMarker(marker)) kill(entry.pid, "SIGKILL");
}

let counter = 0;

/**
 * Shell that starts a process in a session of its own (out of the launcher's group) holding the output, and
 * waits until it has left the launcher's session.
 */
function heldOutside(marker: string): string {
  return `setsid bash -c 'exec -a ${marker} sleep 1000' & while [ "$(cut -d' ' -f6 /proc/$!/stat)" = "$$" ]; do sleep 0.01; done`;
}

describe("a command whose launcher ends", () => {
  const scratch = makeTempDir("swe-selfplay-launcher-");
  const environment = join(scratch.path, "repo");
  let backend: SandboxBackend;
  let sandbox: Sandbox;

  beforeAll(async () => {
    mkdirSync(environment, { recursive: true });
    writeFileSync(join(environment, "file.txt"), "x\n");
    execFileSync("git", ["init", "--quiet"], { cwd: environment });
    backend = createLocalBackend({ runtimeDirectory: join(scratch.path, "runtime") });
    sandbox = await backend.create({ environment: { kind: "dir", path: environment } });
  });

  afterAll(async () => {
    await backend?.close();
    scratch.remove();
  });

  /**
   * A command that waits for SIGUSR1 (then exits 3) while a background process carrying the marker holds
   * its output open.
   */
  function command(marker: string): string {
    return `trap 'exit 3' USR1; (exec -a ${marker}-holder sleep 1000) & wait; : ${marker}`;
  }

  async function expectEndedCleanly(
    marker: string,
    running: Promise<{ status: string; exitCode: number | null }>,
  ) {
    try {
      const result = await running;
      // The launcher was killed: the command's world ended by SIGKILL, not by its timeout.
      expect({ status: result.status, exitCode: result.exitCode }).toEqual({
        status: "exited",
        exitCode: 137,
      });
      await until(() => withMarker(marker).length === 0, `no process of ${marker} is left`);
    } finally {
      cleanUp(marker);
    }
  }

  it("before the gate opens (the namespace init still in bwrap's set-up)", async () => {
    const marker = `launcher-death-${process.pid}-${++counter}`;
    const running = sandbox.run({ command: command(marker), timeoutMs: 30_000 });
    // Still synchronous: our event loop has not read bwrap's info, so nothing is released yet.
    const launcher = launcherOf(marker);
    spinUntil(() => childrenOf(launcher).length > 0);
    const init = childrenOf(launcher)[0];
    expect(init).toBeDefined();
    kill(launcher, "SIGKILL");
    await expectEndedCleanly(marker, running);
    expect(["Z", undefined]).toContain(state(init!));
  });

  it("aborted while the namespace init is still in bwrap's set-up (a sibling run failed)", async () => {
    const marker = `launcher-death-${process.pid}-${++counter}`;
    const controller = new AbortController();
    const running = sandbox.run({ command: command(marker), abortSignal: controller.signal });
    const launcher = launcherOf(marker);
    spinUntil(() => childrenOf(launcher).length > 0);
    controller.abort();
    try {
      const result = await running;
      expect(result.status).toBe("aborted");
      await until(() => withMarker(marker).length === 0, `no process of ${marker} is left`);
    } finally {
      cleanUp(marker);
    }
  });

  it("while the command runs", async () => {
    const marker = `launcher-death-${process.pid}-${++counter}`;
    const running = sandbox.run({ command: command(marker), timeoutMs: 30_000 });
    const launcher = launcherOf(marker);
    await until(
      () => withMarker(marker).some((entry) => entry.command.startsWith(`${marker}-holder`)),
      "the command runs",
    );
    kill(launcher, "SIGKILL");
    await expectEndedCleanly(marker, running);
  });

  it("as the command exits", async () => {
    const marker = `launcher-death-${process.pid}-${++counter}`;
    const running = sandbox.run({ command: command(marker), timeoutMs: 30_000 });
    const launcher = launcherOf(marker);
    await until(
      () => withMarker(marker).some((entry) => entry.command.startsWith(`${marker}-holder`)),
      "the command runs",
    );
    const shell = withMarker(marker).find(
      (entry) =>
        entry.pid !== launcher && entry.command.includes("trap") && !entry.command.includes("--chdir"),
    );
    expect(shell).toBeDefined();
    // Hold the launcher while the command exits (its holder left behind), then end the launcher.
    kill(launcher, "SIGSTOP");
    await until(() => state(launcher) === "T", "the launcher is stopped");
    kill(shell!.pid, "SIGUSR1");
    await until(() => state(shell!.pid) === undefined || state(shell!.pid) === "Z", "the command exited");
    kill(launcher, "SIGKILL");
    await expectEndedCleanly(marker, running);
  });

  it("on its own, with output still held by a process outside its group: the result comes after the grace", async () => {
    const marker = `launcher-grace-${process.pid}-${++counter}`;
    try {
      const outcome = await execute({
        program: "/bin/sh",
        args: ["-c", `${heldOutside(marker)}; echo started`],
        timeoutMs: 60_000,
        maxOutputBytes: 1024,
        graceMs: 1_000,
        killTree: () => {},
      });
      expect(outcome.status).toBe("exited");
      expect(outcome.exitCode).toBe(0);
      expect(outcome.stdout.toString()).toBe("started\n");
      expect(outcome.graceMs).toBeGreaterThanOrEqual(1_000);
    } finally {
      cleanUp(marker);
    }
  });

  it("timed out, with output still held by a process the kill cannot reach: timeout plus grace at most", async () => {
    const marker = `launcher-grace-${process.pid}-${++counter}`;
    try {
      const outcome = await execute({
        program: "/bin/sh",
        args: ["-c", `${heldOutside(marker)}; exec sleep 1000`],
        timeoutMs: 200,
        maxOutputBytes: 1024,
        graceMs: 1_000,
        killTree: (pid) => {
          if (pid !== undefined) kill(-pid, "SIGKILL");
        },
      });
      expect(outcome.status).toBe("timed-out");
      expect(outcome.graceMs).toBeGreaterThanOrEqual(1_000);
    } finally {
      cleanUp(marker);
    }
  });

  it("normally needs no grace", async () => {
    const result = await sandbox.run({ command: "sleep 100 & echo done" });
    expect(result).toMatchObject({ status: "exited", exitCode: 0, stdout: "done\n" });
    expect(result.graceMs).toBeUndefined();
    expect(existsSync(environment)).toBe(true);
  });

  it("left by an owner that died is swept by the next process's backend", async () => {
    const marker = `launcher-orphan-${process.pid}-${++counter}`;
    const deadOwner = spawnSync("true").pid;
    const orphan = spawn("bash", ["-c", `exec -a ${marker} sleep 1000`], {
      env: { [LAUNCHER_VARIABLE]: `${process.env[RUN_TAG_VARIABLE] ?? ""}/${deadOwner}` },
      detached: true,
      stdio: "ignore",
    });
    try {
      await until(() => withMarker(marker).length === 1, "the orphan runs");
      const swept = sweepOrphanedLaunchers((pid) => pid !== deadOwner);
      expect(swept.map((entry) => entry.pid)).toContain(orphan.pid);
      await until(() => withMarker(marker).length === 0, "the orphan is gone");
    } finally {
      cleanUp(marker);
    }
  });
});
