// What one command leaves behind in either backend, and how it is gathered: the outcome with its raw output,
// the cap on each output stream, and the watch that turns a timeout or an abort into a killed process tree.

import type { CommandStatus, RunResult } from "../ports/sandbox.js";

/** A command's outcome with its output as bytes (the port's RunResult carries it decoded). */
export interface CommandOutcome {
  status: CommandStatus;
  /** Exit code when status is "exited" (128+signal when killed by a signal); null otherwise. */
  exitCode: number | null;
  stdout: Buffer;
  stderr: Buffer;
  truncated: boolean;
  durationMs: number;
  /**
   * Set only when the command needed the grace: its output (or its launcher) was still open this many
   * milliseconds after it ended or was killed, and the result was given without waiting longer.
   */
  graceMs?: number;
}

/**
 * How long a command's output may stay open once the command ended or was killed. A command's result comes
 * at most its timeout plus this grace after it started, whatever its descendants do.
 */
export const COMMAND_GRACE_MS = 5_000;

/**
 * Keeps the first `limit` bytes of a stream and drops (but drains) the rest; `truncated` is set exactly
 * when a byte was dropped. The head is kept: it holds the first error and the context leading up to it,
 * and callers that need a runner's closing totals refuse truncated output rather than read a tail.
 */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.kept;
    if (chunk.length > room) {
      this.truncated = true;
      if (room <= 0) return;
      chunk = chunk.subarray(0, room);
    }
    this.chunks.push(chunk);
    this.kept += chunk.length;
  }

  value(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The outcome of a command that never ran (aborted before it started, or cut short by destroy()). */
export function outcomeWithoutOutput(status: CommandStatus): CommandOutcome {
  return {
    status,
    exitCode: null,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    truncated: false,
    durationMs: 0,
  };
}

/** The port's view of an outcome: output decoded as UTF-8. */
export function runResultOf(outcome: CommandOutcome): RunResult {
  return {
    status: outcome.status,
    exitCode: outcome.exitCode,
    stdout: outcome.stdout.toString("utf8"),
    stderr: outcome.stderr.toString("utf8"),
    truncated: outcome.truncated,
    durationMs: outcome.durationMs,
    ...(outcome.graceMs === undefined ? {} : { graceMs: outcome.graceMs }),
  };
}

export interface WatchOptions {
  timeoutMs: number;
  maxOutputBytes: number;
  abortSignal?: AbortSignal;
  /** Kills the command's process tree; called once, on the first timeout or abort. */
  onStop(reason: CommandStatus): void;
}

/**
 * One running command's bookkeeping: capped output, the timer and the abort listener that stop it, and its
 * outcome. `start()` arms it, `end()` disarms it, `outcome()` reads it.
 */
export class CommandWatch {
  readonly stdout: CappedBuffer;
  readonly stderr: CappedBuffer;
  status: CommandStatus = "exited";
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.stop("aborted");

  constructor(private readonly options: WatchOptions) {
    this.stdout = new CappedBuffer(options.maxOutputBytes);
    this.stderr = new CappedBuffer(options.maxOutputBytes);
  }

  start(): void {
    this.timer = setTimeout(() => this.stop("timed-out"), this.options.timeoutMs);
    // An abort that came while the command was being started (a Docker exec takes two engine requests)
    // fires no event any more: without this check the command would run until its timeout.
    if (this.options.abortSignal?.aborted) this.stop("aborted");
    else this.options.abortSignal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Whether the command has been stopped (timed out or aborted). */
  get stopped(): boolean {
    return this.status !== "exited";
  }

  stop(reason: CommandStatus): void {
    if (this.stopped) return;
    this.status = reason;
    this.options.onStop(reason);
  }

  end(): void {
    clearTimeout(this.timer);
    this.options.abortSignal?.removeEventListener("abort", this.onAbort);
  }

  /**
   * The outcome; `exitCode` counts only when the command was not stopped. `graceMs` is given when the
   * result had to be forced after the grace.
   */
  outcome(exitCode: number | null, graceMs?: number): CommandOutcome {
    return {
      status: this.status,
      exitCode: this.stopped ? null : exitCode,
      stdout: this.stdout.value(),
      stderr: this.stderr.value(),
      truncated: this.stdout.truncated || this.stderr.truncated,
      durationMs: Math.round(performance.now() - this.started),
      ...(graceMs === undefined ? {} : { graceMs }),
    };
  }
}
