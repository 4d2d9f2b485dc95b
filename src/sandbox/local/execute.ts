// Runs one launcher process to completion: stdin in, capped stdout/stderr out, timeout and abort kill the
// whole tree. The outcome is data; only a launcher that cannot start at all is an error.

import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import { type CommandOutcome, CommandWatch, outcomeWithoutOutput } from "../command-outcome.js";

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

export function execute(options: ExecuteOptions): Promise<CommandOutcome> {
  if (options.abortSignal?.aborted) return Promise.resolve(outcomeWithoutOutput("aborted"));
  return new Promise((resolve, reject) => {
    const gated = options.beforeStart !== undefined;
    const watch = new CommandWatch({ ...options, onStop: () => options.killTree(child.pid) });
    const child = spawn(options.program, [...options.args], {
      stdio: gated ? ["pipe", "pipe", "pipe", "pipe", "pipe", "pipe"] : ["pipe", "pipe", "pipe"],
      env: {},
    });
    let failed: Error | undefined;
    child.stdout!.on("data", (chunk: Buffer) => watch.stdout.push(chunk));
    child.stderr!.on("data", (chunk: Buffer) => watch.stderr.push(chunk));
    child.on("error", (error) => {
      failed = error;
    });
    watch.start();
    if (gated) {
      gate(child, options.beforeStart!, (error) => {
        failed = error;
        watch.stop("aborted");
      });
    }
    child.on("close", (code, signal) => {
      watch.end();
      // Nothing may outlive its command, even a daemon that closed its output.
      options.killTree(undefined);
      if (failed && (child.pid === undefined || gated)) reject(failed);
      else resolve(watch.outcome(code ?? 128 + signalNumber(signal)));
    });
    child.stdin!.on("error", () => {
      // the command did not read its input: fine
    });
    child.stdin!.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));
  });
}

/**
 * Reads bwrap's info (fd 3) until it names the sandbox's first process, hands that pid to `beforeStart`, then
 * releases bwrap (fd 4) and the gated command (fd 5).
 */
function gate(
  child: ChildProcess,
  beforeStart: (sandboxPid: number) => void,
  onFailure: (error: Error) => void,
): void {
  const info = child.stdio[3] as NodeJS.ReadableStream;
  const release = child.stdio[4] as NodeJS.WritableStream;
  const go = (child.stdio as unknown as NodeJS.WritableStream[])[5]!;
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
      beforeStart(Number(pid));
      release.end("x");
      go.end("go\n");
    } catch (error) {
      onFailure(error as Error);
    }
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 9) : 0;
}
