// The bookkeeping every sandbox backend shares: identity, change tracking, commands in flight (linked to the
// caller's abort signal, aborted by destroy), the destroyed state, paths inside the sandbox, and reading a
// file through the sandbox's own shell. A backend supplies how a command is launched and what destroy frees.

import { posix } from "node:path";
import { InfrastructureError, InputError } from "../errors.js";
import { createLogger } from "../log.js";
import type { ApplyResult, RunOptions, RunResult, Sandbox, SandboxSpec } from "../ports/sandbox.js";
import { shellQuote } from "../shell-quote.js";
import { type ChangeTracker, TrackedTree } from "./change-tracking.js";
import { type CommandOutcome, outcomeWithoutOutput, runResultOf } from "./command-outcome.js";

/** Largest file readFile returns through the sandbox. */
export const READ_LIMIT = 256 * 1024 * 1024;

/**
 * How long destroy() waits for a sandbox to be freed (its commands are aborted first, and each takes at most
 * the command grace then). Past it destroy() resolves, so a backend's close() is bounded whatever an engine
 * or a file system does; the freeing goes on, and the sandbox stays known to the exit hook until it is done.
 */
export const DESTROY_LIMIT_MS = 60_000;

const log = createLogger("sandbox");

export interface SandboxBaseParts {
  id: string;
  spec: SandboxSpec;
  workdir: string;
  tracker: ChangeTracker;
  indexFile: string;
  startTree: string;
  defaultTimeoutMs: number;
  maxOutputBytes: number;
  onDestroyed: () => void;
  /** DESTROY_LIMIT_MS unless set (tests). */
  destroyLimitMs?: number;
}

/** Run options with the sandbox's defaults filled in. */
export type LaunchOptions = RunOptions & { timeoutMs: number; maxOutputBytes: number };

/** One command in flight: its own abort signal (the caller's, or destroy's) and how to kill it at exit. */
export interface InFlightCommand {
  readonly signal: AbortSignal;
  /** Synchronous kill for the exit hook, set by backends whose commands outlive the process otherwise. */
  killNow?: () => void;
}

interface InFlightEntry extends InFlightCommand {
  readonly controller: AbortController;
  done: Promise<unknown>;
}

export abstract class SandboxBase<Parts extends SandboxBaseParts> implements Sandbox {
  readonly id: string;
  readonly spec: SandboxSpec;
  readonly workdir: string;
  protected readonly tracked: TrackedTree;
  protected destroying: Promise<void> | undefined;
  private readonly inFlight = new Set<InFlightEntry>();

  constructor(protected readonly parts: Parts) {
    this.id = parts.id;
    this.spec = parts.spec;
    this.workdir = parts.workdir;
    this.tracked = new TrackedTree(parts.tracker, parts.indexFile, parts.startTree);
  }

  /** Starts one command and resolves with its outcome; rejects only when it cannot run at all. */
  protected abstract launch(options: LaunchOptions, command: InFlightCommand): Promise<CommandOutcome>;
  /** The error for a command that could not run while the sandbox was alive. */
  protected abstract launchFailed(error: unknown): InfrastructureError;
  /** Frees what the sandbox holds, after its commands were told to abort. */
  protected abstract release(): Promise<void>;
  /** Frees what the sandbox holds without waiting on anything (the exit hook). */
  protected abstract releaseSync(): void;

  abstract readFile(path: string): Promise<Buffer>;
  abstract writeFile(path: string, content: string | Uint8Array, options?: { mode?: number }): Promise<void>;

  async run(options: RunOptions): Promise<RunResult> {
    return runResultOf(await this.execute(options));
  }

  protected async execute(options: RunOptions): Promise<CommandOutcome> {
    this.assertAlive();
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.abortSignal?.addEventListener("abort", abort, { once: true });
    if (options.abortSignal?.aborted) controller.abort();
    const entry: InFlightEntry = { controller, signal: controller.signal, done: Promise.resolve() };
    this.inFlight.add(entry);
    try {
      const running = this.launch(
        {
          ...options,
          timeoutMs: options.timeoutMs ?? this.parts.defaultTimeoutMs,
          maxOutputBytes: options.maxOutputBytes ?? this.parts.maxOutputBytes,
        },
        entry,
      );
      entry.done = running.catch(() => undefined);
      return await running;
    } catch (error) {
      // A command cut short by destroy() is an aborted command, not a broken backend.
      if (this.destroying) return outcomeWithoutOutput("aborted");
      throw error instanceof InfrastructureError ? error : this.launchFailed(error);
    } finally {
      this.inFlight.delete(entry);
      options.abortSignal?.removeEventListener("abort", abort);
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
      for (const entry of this.inFlight) entry.controller.abort();
      const releasing = (async () => {
        try {
          await this.release();
        } finally {
          this.parts.onDestroyed();
        }
      })();
      const limitMs = this.parts.destroyLimitMs ?? DESTROY_LIMIT_MS;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), limitMs);
      });
      try {
        if ((await Promise.race([releasing, late])) === "late") {
          releasing.catch(() => undefined);
          log.warn("a sandbox was not freed in time; destroy() returns and the freeing goes on", {
            sandbox: this.id,
            limitMs,
          });
        }
      } finally {
        clearTimeout(timer);
      }
    })();
    return this.destroying;
  }

  /** For the registry's exit hook: kill and free without waiting on anything. */
  destroySync(): void {
    this.destroying ??= Promise.resolve();
    for (const entry of this.inFlight) entry.killNow?.();
    this.releaseSync();
    this.parts.onDestroyed();
  }

  /** Resolves when every command in flight and every change-tracking operation has finished. */
  protected async settled(): Promise<void> {
    await Promise.all([...this.inFlight].map((entry) => entry.done));
    await this.tracked.settled();
  }

  protected assertAlive(): void {
    if (this.destroying) {
      throw new InfrastructureError("sandbox-destroyed", `sandbox ${this.id} has been destroyed`, {
        data: { sandbox: this.id },
      });
    }
  }

  protected insidePath(path: string): string {
    return posix.resolve(this.workdir, path);
  }

  /** Reads a file with `cat` inside the sandbox, where a symbolic link can reach nothing of the host. */
  protected async readThroughShell(inside: string): Promise<Buffer> {
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

  protected missingFile(inside: string, cause?: unknown): InputError {
    return new InputError("sandbox-file-missing", `no such file in sandbox ${this.id}: ${inside}`, {
      data: { sandbox: this.id, path: inside },
      ...(cause === undefined ? {} : { cause }),
    });
  }

  /** The error for a write that failed; `outcome` is the sandbox command that failed, when one did. */
  protected writeFailed(inside: string, outcome?: CommandOutcome): InputError {
    const detail = outcome === undefined ? "" : `: ${outcome.stderr.toString("utf8").trim()}`;
    return new InputError("sandbox-write-failed", `cannot write ${inside} in sandbox ${this.id}${detail}`, {
      data: { sandbox: this.id, path: inside },
    });
  }
}
