// TEST-ONLY sandbox backend: a plain copy of a directory environment, with NO isolation (commands run on the
// host as this user, with the network and the whole file system). It exists to show that a backend outside
// src/ is reachable from configuration alone (`sandboxBackends` + an environment's `backend`), the way a
// Kubernetes or remote backend plugs in, and to run the sandbox conformance suite's non-isolation checks
// through that path. Never use it for untrusted code.

import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { constants as osConstants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { InfrastructureError, InputError } from "../../src/errors.js";
import type { SandboxBackend, SandboxSpec } from "../../src/ports/sandbox.js";
import {
  applyStartingPatches,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  LiveSandboxes,
} from "../../src/sandbox/backend-support.js";
import { ChangeTracker, type GitRunner } from "../../src/sandbox/change-tracking.js";
import { COMMAND_GRACE_MS, type CommandOutcome, CommandWatch } from "../../src/sandbox/command-outcome.js";
import {
  type InFlightCommand,
  type LaunchOptions,
  SandboxBase,
  type SandboxBaseParts,
} from "../../src/sandbox/sandbox-base.js";

const PATH = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";

/** Git on the host, with exactly the environment the tracker gives (plus PATH). */
const hostGit: GitRunner = {
  git: (args, options) =>
    new Promise((resolve, reject) => {
      const child = spawn("git", [...args], { cwd: options.cwd, env: { PATH, ...options.env } });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      child.on("error", reject);
      child.stdin.on("error", () => undefined); // git may not read what it does not need
      child.on("close", (code) =>
        resolve({
          exitCode: code ?? 1,
          stdout: Buffer.concat(stdout),
          stderr: Buffer.concat(stderr).toString(),
        }),
      );
      child.stdin.end(options.stdin ?? "");
    }),
  async writeFile(path, content) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  },
  async copyFile(from, to) {
    await cp(from, to);
  },
};

interface CopyParts extends SandboxBaseParts {
  scratch: string;
}

class CopySandbox extends SandboxBase<CopyParts> {
  protected launch(options: LaunchOptions, command: InFlightCommand): Promise<CommandOutcome> {
    const child = spawn("bash", ["-c", options.command], {
      cwd: this.insidePath(options.cwd ?? "."),
      env: { PATH, HOME: this.parts.scratch, LANG: "C.UTF-8", ...options.env },
      detached: true,
      stdio: "pipe",
    });
    // The command's process group: everything it started dies with it, on timeout, abort or exit.
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const watch = new CommandWatch({
      timeoutMs: options.timeoutMs,
      maxOutputBytes: options.maxOutputBytes,
      abortSignal: command.signal,
      onStop: killGroup,
    });
    command.killNow = killGroup;
    return new Promise((resolve, reject) => {
      let exitCode: number | null = null;
      let grace: NodeJS.Timeout | undefined;
      child.stdout.on("data", (chunk: Buffer) => watch.stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => watch.stderr.push(chunk));
      child.stdin.on("error", () => undefined);
      child.on("error", (error) => {
        watch.end();
        reject(error);
      });
      child.on("exit", (code, signal) => {
        exitCode = code ?? 128 + (signal ? osConstants.signals[signal] : 0);
        killGroup();
        grace = setTimeout(() => {
          watch.end();
          resolve(watch.outcome(exitCode, COMMAND_GRACE_MS));
        }, COMMAND_GRACE_MS);
      });
      child.on("close", () => {
        clearTimeout(grace);
        watch.end();
        resolve(watch.outcome(exitCode));
      });
      watch.start();
      child.stdin.end(options.stdin ?? "");
    });
  }

  protected launchFailed(error: unknown): InfrastructureError {
    return new InfrastructureError("sandbox-command-failed", `copy sandbox ${this.id}: ${String(error)}`, {
      cause: error,
    });
  }

  protected async release(): Promise<void> {
    await this.settled();
    await rm(this.parts.scratch, { recursive: true, force: true });
  }

  protected releaseSync(): void {
    rmSync(this.parts.scratch, { recursive: true, force: true });
  }

  async readFile(path: string): Promise<Buffer> {
    this.assertAlive();
    const inside = this.insidePath(path);
    try {
      return await readFile(inside);
    } catch (error) {
      throw this.missingFile(inside, error);
    }
  }

  async writeFile(
    path: string,
    content: string | Uint8Array,
    options: { mode?: number } = {},
  ): Promise<void> {
    this.assertAlive();
    const inside = this.insidePath(path);
    await mkdir(dirname(inside), { recursive: true });
    await writeFile(inside, content);
    if (options.mode !== undefined) await chmod(inside, options.mode);
  }
}

class CopyBackend implements SandboxBackend {
  readonly kind = "copy";
  private readonly live = new LiveSandboxes<CopySandbox>();
  private counter = 0;
  private closed = false;

  async create(spec: SandboxSpec): Promise<CopySandbox> {
    if (this.closed)
      throw new InfrastructureError("backend-closed", "the copy sandbox backend has been closed");
    const environment = spec.environment;
    if (environment.kind !== "dir")
      throw new InputError("environment-unsupported", "the copy backend runs directory environments only");
    const scratch = await mkdtemp(join(tmpdir(), "swe-selfplay-copy-"));
    try {
      const workdir = join(scratch, "testbed");
      await cp(environment.path, workdir, { recursive: true, verbatimSymlinks: true });
      const gitDir = join(scratch, "tracking.git");
      const indexFile = join(gitDir, "sandbox.index");
      const tracker = new ChangeTracker(hostGit, { gitDir, workTree: workdir });
      await tracker.initialize();
      const base = await tracker.stage(indexFile);
      const patched = await applyStartingPatches(tracker, indexFile, spec.patches ?? [], environment.path);
      return this.live.adopt(
        (onDestroyed) =>
          new CopySandbox({
            id: `copy-${++this.counter}`,
            spec,
            workdir,
            scratch,
            tracker,
            indexFile,
            startTree: patched ?? base,
            defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
            maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES,
            onDestroyed,
          }),
      );
    } catch (error) {
      await rm(scratch, { recursive: true, force: true });
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.live.destroyAll();
  }
}

/** The entry point a configured backend's module exports (see `sandboxBackends` in the config schema). */
export function createSandboxBackend(_options: Record<string, unknown> = {}): SandboxBackend {
  return new CopyBackend();
}
