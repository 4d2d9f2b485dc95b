// One Docker sandbox: a container kept alive by an idle init, commands as execs under process-tree control,
// files through the archive API, and change tracking by git inside the container.

import { posix } from "node:path";
import type Docker from "dockerode";
import { InfrastructureError, InputError } from "../../errors.js";
import { shellQuote } from "../../shell-quote.js";
import type { CommandOutcome } from "../command-outcome.js";
import type { ResourceLedger } from "../resource-ledger.js";
import {
  type InFlightCommand,
  type LaunchOptions,
  READ_LIMIT,
  SandboxBase,
  type SandboxBaseParts,
} from "../sandbox-base.js";
import { readFromArchive, type SandboxUser, userSpec, writeThroughArchive } from "./archive.js";
import { describe, removeContainerSync } from "./engine.js";
import { execInContainer } from "./exec.js";

export interface DockerSandboxParts extends SandboxBaseParts {
  container: Docker.Container;
  /** Who the sandbox's commands run as; files written through the archive API get this owner. */
  user: SandboxUser;
  /** Unix socket of the engine, for the synchronous cleanup at exit; undefined for TCP engines. */
  socketPath: string | undefined;
  /** The backend's account: commands in flight are counted in it. */
  ledger: ResourceLedger;
  /** Removes the container through the backend, which counts it gone (404 and 409 are no failure). */
  removeContainer: () => Promise<void>;
}

export class DockerSandbox extends SandboxBase<DockerSandboxParts> {
  /** Id of the container behind this sandbox (for diagnostics and tests). */
  get containerId(): string {
    return this.parts.container.id;
  }

  protected async launch(options: LaunchOptions, command: InFlightCommand): Promise<CommandOutcome> {
    const releaseProcess = this.parts.ledger.hold("processes");
    try {
      return await this.exec(options, command);
    } finally {
      releaseProcess();
    }
  }

  private exec(options: LaunchOptions, command: InFlightCommand): Promise<CommandOutcome> {
    return execInContainer(this.parts.container, {
      command: options.command,
      cwd: this.insidePath(options.cwd ?? "."),
      user: userSpec(this.parts.user),
      env: { HOME: "/tmp", TMPDIR: "/tmp", ...options.env },
      stdin: options.stdin,
      timeoutMs: options.timeoutMs,
      maxOutputBytes: options.maxOutputBytes,
      abortSignal: command.signal,
    });
  }

  protected launchFailed(error: unknown): InfrastructureError {
    return new InfrastructureError(
      "sandbox-exec-failed",
      `cannot run a command in Docker sandbox ${this.id} (container ${this.containerId.slice(0, 12)}): ${describe(error)}`,
      { cause: error, data: { sandbox: this.id, container: this.containerId } },
    );
  }

  async readFile(path: string): Promise<Buffer> {
    this.assertAlive();
    const inside = this.insidePath(path);
    const read = await this.engine(() => readFromArchive(this.parts.container, inside, READ_LIMIT));
    if (read.status === "file") return read.content;
    if (read.status === "missing") throw this.missingFile(inside);
    if (read.status === "directory") {
      throw new InputError(
        "sandbox-file-missing",
        `${inside} in sandbox ${this.id} is a directory, not a file`,
        { data: { sandbox: this.id, path: inside } },
      );
    }
    // A symbolic link resolves inside the container, where it can reach nothing of the host.
    return this.readThroughShell(inside);
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
    if (made.status !== "exited" || made.exitCode !== 0) throw this.writeFailed(inside, made);
    if (!(await this.engine(() => writeThroughArchive(this.parts.container, inside, bytes, target))))
      throw this.writeFailed(inside);
  }

  protected async release(): Promise<void> {
    try {
      // Removing with force kills every process in the container at once.
      await this.parts.removeContainer();
    } catch (error) {
      throw new InfrastructureError(
        "sandbox-destroy-failed",
        `cannot remove container ${this.containerId.slice(0, 12)} of sandbox ${this.id}: ${describe(error)}`,
        { cause: error, data: { sandbox: this.id, container: this.containerId } },
      );
    }
  }

  /** Removes the container in a child process: at exit nothing asynchronous runs. */
  protected releaseSync(): void {
    const socketPath = this.parts.socketPath;
    if (socketPath !== undefined) removeContainerSync(socketPath, this.containerId);
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
}
