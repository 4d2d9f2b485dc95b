// One Docker sandbox: a container kept alive by an idle init, commands as execs under process-tree control,
// files through the archive API, and change tracking by git inside the container.

import { posix } from "node:path";
import type Docker from "dockerode";
import { InfrastructureError, InputError } from "../../errors.js";
import type { ApplyResult, RunOptions, RunResult, Sandbox, SandboxSpec } from "../../ports/sandbox.js";
import { type ChangeTracker, TrackedTree } from "../change-tracking.js";
import { readFromArchive, type SandboxUser, userSpec, writeThroughArchive } from "./archive.js";
import { describe, removeContainerSync } from "./engine.js";
import { type ExecOutcome, execInContainer, shellQuote } from "./exec.js";

/** Largest file readFile returns. */
const READ_LIMIT = 256 * 1024 * 1024;

export interface DockerSandboxParts {
  id: string;
  spec: SandboxSpec;
  workdir: string;
  container: Docker.Container;
  /** Who the sandbox's commands run as; files written through the archive API get this owner. */
  user: SandboxUser;
  /** Unix socket of the engine, for the synchronous cleanup at exit; undefined for TCP engines. */
  socketPath: string | undefined;
  tracker: ChangeTracker;
  indexFile: string;
  startTree: string;
  defaultTimeoutMs: number;
  maxOutputBytes: number;
  onDestroyed: () => void;
}

export class DockerSandbox implements Sandbox {
  readonly id: string;
  readonly spec: SandboxSpec;
  readonly workdir: string;
  private readonly tracked: TrackedTree;
  private destroying: Promise<void> | undefined;
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly parts: DockerSandboxParts) {
    this.id = parts.id;
    this.spec = parts.spec;
    this.workdir = parts.workdir;
    this.tracked = new TrackedTree(parts.tracker, parts.indexFile, parts.startTree);
  }

  /** Id of the container behind this sandbox (for diagnostics and tests). */
  get containerId(): string {
    return this.parts.container.id;
  }

  async run(options: RunOptions): Promise<RunResult> {
    const outcome = await this.execute(options);
    return {
      status: outcome.status,
      exitCode: outcome.exitCode,
      stdout: outcome.stdout.toString("utf8"),
      stderr: outcome.stderr.toString("utf8"),
      truncated: outcome.truncated,
      durationMs: outcome.durationMs,
    };
  }

  private async execute(options: RunOptions): Promise<ExecOutcome> {
    this.assertAlive();
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.abortSignal?.addEventListener("abort", abort, { once: true });
    if (options.abortSignal?.aborted) controller.abort();
    this.inFlight.add(controller);
    try {
      return await execInContainer(this.parts.container, {
        command: options.command,
        cwd: this.insidePath(options.cwd ?? "."),
        user: userSpec(this.parts.user),
        env: { HOME: "/tmp", TMPDIR: "/tmp", ...options.env },
        stdin: options.stdin,
        timeoutMs: options.timeoutMs ?? this.parts.defaultTimeoutMs,
        maxOutputBytes: options.maxOutputBytes ?? this.parts.maxOutputBytes,
        abortSignal: controller.signal,
      });
    } catch (error) {
      // A command cut short by destroy() is an aborted command, not a broken engine.
      if (this.destroying) {
        return {
          status: "aborted",
          exitCode: null,
          stdout: Buffer.alloc(0),
          stderr: Buffer.alloc(0),
          truncated: false,
          durationMs: 0,
        };
      }
      throw new InfrastructureError(
        "sandbox-exec-failed",
        `cannot run a command in Docker sandbox ${this.id} (container ${this.containerId.slice(0, 12)}): ${describe(error)}`,
        { cause: error, data: { sandbox: this.id, container: this.containerId } },
      );
    } finally {
      this.inFlight.delete(controller);
      options.abortSignal?.removeEventListener("abort", abort);
    }
  }

  async readFile(path: string): Promise<Buffer> {
    this.assertAlive();
    const inside = this.insidePath(path);
    const read = await this.engine(() => readFromArchive(this.parts.container, inside, READ_LIMIT));
    if (read.status === "file") return read.content;
    if (read.status === "missing") {
      throw new InputError("sandbox-file-missing", `no such file in sandbox ${this.id}: ${inside}`, {
        data: { sandbox: this.id, path: inside },
      });
    }
    if (read.status === "directory") {
      throw new InputError(
        "sandbox-file-missing",
        `${inside} in sandbox ${this.id} is a directory, not a file`,
        {
          data: { sandbox: this.id, path: inside },
        },
      );
    }
    // A symbolic link resolves inside the container, where it can reach nothing of the host.
    const outcome = await this.execute({
      command: `cat -- ${shellQuote(inside)}`,
      timeoutMs: 60_000,
      maxOutputBytes: READ_LIMIT,
    });
    if (outcome.status !== "exited" || outcome.exitCode !== 0) {
      throw new InputError(
        "sandbox-file-missing",
        `cannot read ${inside} in sandbox ${this.id}: ${outcome.stderr.toString("utf8").trim()}`,
        { data: { sandbox: this.id, path: inside } },
      );
    }
    if (outcome.truncated) {
      throw new InputError(
        "sandbox-file-too-large",
        `${inside} in sandbox ${this.id} is larger than ${READ_LIMIT} bytes`,
      );
    }
    return outcome.stdout;
  }

  async writeFile(
    path: string,
    content: string | Uint8Array,
    options: { mode?: number } = {},
  ): Promise<void> {
    this.assertAlive();
    const inside = this.insidePath(path);
    const bytes = Buffer.from(content);
    const mode = options.mode ?? 0o644;
    const target = { mode, owner: this.parts.user };
    if (await this.engine(() => writeThroughArchive(this.parts.container, inside, bytes, target))) return;
    const made = await this.execute({
      command: `mkdir -p -- ${shellQuote(posix.dirname(inside))}`,
      timeoutMs: 60_000,
    });
    if (made.status !== "exited" || made.exitCode !== 0) {
      throw new InputError(
        "sandbox-write-failed",
        `cannot write ${inside} in sandbox ${this.id}: ${made.stderr.toString("utf8").trim()}`,
        { data: { sandbox: this.id, path: inside } },
      );
    }
    if (!(await this.engine(() => writeThroughArchive(this.parts.container, inside, bytes, target)))) {
      throw new InputError("sandbox-write-failed", `cannot write ${inside} in sandbox ${this.id}`, {
        data: { sandbox: this.id, path: inside },
      });
    }
  }

  diff(): Promise<string> {
    this.assertAlive();
    return this.tracked.diff();
  }

  applyPatch(diff: string): Promise<ApplyResult> {
    this.assertAlive();
    return this.tracked.applyPatch(diff);
  }

  snapshot(): Promise<void> {
    this.assertAlive();
    return this.tracked.snapshot();
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      for (const controller of this.inFlight) controller.abort();
      try {
        // Removing with force kills every process in the container at once.
        await this.parts.container.remove({ force: true, v: true });
      } catch (error) {
        const code = (error as { statusCode?: number }).statusCode;
        // 404: already gone; 409: removal already in progress.
        if (code !== 404 && code !== 409) {
          throw new InfrastructureError(
            "sandbox-destroy-failed",
            `cannot remove container ${this.containerId.slice(0, 12)} of sandbox ${this.id}: ${describe(error)}`,
            { cause: error, data: { sandbox: this.id, container: this.containerId } },
          );
        }
      } finally {
        this.parts.onDestroyed();
      }
    })();
    return this.destroying;
  }

  /** For the registry's exit hook, where nothing asynchronous runs: removes the container in a child process. */
  destroySync(): void {
    this.destroying ??= Promise.resolve();
    const socketPath = this.parts.socketPath;
    if (socketPath !== undefined) removeContainerSync(socketPath, this.containerId);
    this.parts.onDestroyed();
  }

  private async engine<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new InfrastructureError(
        "sandbox-engine-failed",
        `Docker engine request for sandbox ${this.id} (container ${this.containerId.slice(0, 12)}) failed: ${describe(error)}`,
        { cause: error, data: { sandbox: this.id, container: this.containerId } },
      );
    }
  }

  private assertAlive(): void {
    if (this.destroying) {
      throw new InfrastructureError("sandbox-destroyed", `sandbox ${this.id} has been destroyed`, {
        data: { sandbox: this.id },
      });
    }
  }

  private insidePath(path: string): string {
    return posix.resolve(this.workdir, path);
  }
}
