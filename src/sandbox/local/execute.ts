// Runs one launcher process to completion: stdin in, capped stdout/stderr out, timeout and abort kill the
// whole tree. The outcome is data; only a launcher that cannot start at all is an error.

import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { RunStatus } from "../../ports/sandbox.js";

export interface ExecuteOptions {
  program: string;
  args: readonly string[];
  stdin?: string | Uint8Array;
  timeoutMs: number;
  maxOutputBytes: number;
  abortSignal?: AbortSignal;
  /**
   * When set, the program is bwrap started with `--info-fd 3 --block-fd 4` and a command gated on fd 5: the
   * sandbox's first process is passed here (to join control groups) before anything may run.
   */
  beforeStart?: (sandboxPid: number) => void;
  /** Kills everything the launcher started; called on timeout, abort, and after a normal exit. */
  killTree: (pid: number | undefined) => void;
}

export interface ExecuteOutcome {
  status: RunStatus;
  exitCode: number | null;
  stdout: Buffer;
  stderr: Buffer;
  truncated: boolean;
  durationMs: number;
}

/** Keeps the first `limit` bytes of a stream and drops (but drains) the rest. */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    if (this.kept >= this.limit) {
      this.truncated = true;
      return;
    }
    const room = this.limit - this.kept;
    if (chunk.length > room) {
      this.chunks.push(chunk.subarray(0, room));
      this.kept = this.limit;
      this.truncated = true;
      return;
    }
    this.chunks.push(chunk);
    this.kept += chunk.length;
  }

  value(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export function execute(options: ExecuteOptions): Promise<ExecuteOutcome> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (options.abortSignal?.aborted) {
      resolve({
        status: "aborted",
        exitCode: null,
        stdout: Buffer.alloc(0),
        stderr: Buffer.alloc(0),
        truncated: false,
        durationMs: 0,
      });
      return;
    }
    const gated = options.beforeStart !== undefined;
    const child = spawn(options.program, [...options.args], {
      stdio: gated ? ["pipe", "pipe", "pipe", "pipe", "pipe", "pipe"] : ["pipe", "pipe", "pipe"],
      env: {},
    });
    const stdout = new CappedBuffer(options.maxOutputBytes);
    const stderr = new CappedBuffer(options.maxOutputBytes);
    let status: RunStatus = "exited";
    let failed: Error | undefined;
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      failed = error;
    });
    const stop = (reason: RunStatus) => {
      if (status !== "exited") return;
      status = reason;
      options.killTree(child.pid);
    };
    const timer = setTimeout(() => stop("timed-out"), options.timeoutMs);
    if (gated) {
      gate(
        child.stdio[3] as NodeJS.ReadableStream,
        child.stdio[4] as NodeJS.WritableStream,
        (child.stdio as unknown as NodeJS.WritableStream[])[5]!,
      );
    }
    const onAbort = () => stop("aborted");
    options.abortSignal?.addEventListener("abort", onAbort, { once: true });
    function gate(
      info: NodeJS.ReadableStream,
      release: NodeJS.WritableStream,
      go: NodeJS.WritableStream,
    ): void {
      let text = "";
      let released = false;
      release.on("error", () => {});
      go.on("error", () => {});
      info.setEncoding("utf8");
      info.on("data", (chunk: string) => {
        text += chunk;
        if (released) return;
        const pid = text.match(/"child-pid"\s*:\s*(\d+)/)?.[1];
        if (pid === undefined) return;
        released = true;
        try {
          options.beforeStart!(Number(pid));
          release.end("x");
          go.end("go\n");
        } catch (error) {
          failed = error as Error;
          stop("aborted");
        }
      });
    }
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      options.abortSignal?.removeEventListener("abort", onAbort);
      // Nothing may outlive its command, even a daemon that closed its output.
      options.killTree(undefined);
      if (failed && (child.pid === undefined || gated)) {
        reject(failed);
        return;
      }
      const exitCode = status !== "exited" ? null : (code ?? 128 + signalNumber(signal));
      resolve({
        status,
        exitCode,
        stdout: stdout.value(),
        stderr: stderr.value(),
        truncated: stdout.truncated || stderr.truncated,
        durationMs: Math.round(performance.now() - started),
      });
    });
    child.stdin.on("error", () => {
      // the command did not read its input: fine
    });
    child.stdin.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 9) : 0;
}
