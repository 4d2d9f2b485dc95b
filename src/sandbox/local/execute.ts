// Runs one launcher process to completion: stdin in, capped stdout/stderr out, timeout and abort kill the
// whole tree. The outcome is data; only a launcher that cannot start at all is an error.
//
// The result waits on the launcher's exit, not on its output: once the launcher has exited (or was killed),
// the tree is killed and the output gets a bounded drain (COMMAND_GRACE_MS). Whatever its descendants do, a
// command takes at most its timeout plus that grace; a command that needed it says so (`graceMs`).

import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import type { Readable } from "node:stream";
import { createLogger } from "../../log.js";
import {
  COMMAND_GRACE_MS,
  type CommandOutcome,
  CommandWatch,
  outcomeWithoutOutput,
} from "../command-outcome.js";
import { launcherEnvironment } from "./launcher-marker.js";

const log = createLogger("sandbox.local");

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
  /**
   * Told the launcher's pid once it runs. The launcher leads its own process group (pgid = pid), which
   * execute kills on timeout, abort and the launcher's exit (see killLauncherGroup).
   */
  onSpawn?: (pid: number) => void;
  /** Told once the launcher has exited (or could not start): it is no longer a process of ours. */
  onExit?: () => void;
  /**
   * Kills what the launcher's group may not hold (e.g. a control group's members); called on timeout and
   * abort (with the launcher's pid) and when the result is given (with undefined).
   */
  killTree: (pid: number | undefined) => void;
  /** How long output may stay open after the launcher ended or was killed (default COMMAND_GRACE_MS). */
  graceMs?: number;
}

export function execute(options: ExecuteOptions): Promise<CommandOutcome> {
  if (options.abortSignal?.aborted) return Promise.resolve(outcomeWithoutOutput("aborted"));
  return new Promise((resolve, reject) => {
    const gated = options.beforeStart !== undefined;
    const graceMs = options.graceMs ?? COMMAND_GRACE_MS;
    let child: ChildProcess | undefined;
    let failed: Error | undefined;
    let done = false;
    let exitCode: number | null = null;
    let endedAt: number | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    // From the launcher's exit or the stop, whichever comes first, the output has `graceMs` to close.
    const startGrace = () => {
      if (done || endedAt !== undefined) return;
      endedAt = performance.now();
      graceTimer = setTimeout(() => finish(true), graceMs);
    };
    const watch = new CommandWatch({
      ...options,
      onStop: () => {
        if (child?.pid !== undefined) killLauncherGroup(child.pid);
        options.killTree(child?.pid);
        startGrace();
      },
    });
    const finish = (forced: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(graceTimer);
      watch.end();
      options.killTree(undefined);
      let waited: number | undefined;
      if (forced) {
        waited = Math.round(performance.now() - (endedAt ?? performance.now()));
        giveUpOnOutput(options.program, child, waited);
      }
      if (failed && (child?.pid === undefined || gated)) reject(failed);
      else resolve(watch.outcome(exitCode, waited));
    };

    child = spawn(options.program, [...options.args], {
      stdio: gated ? ["pipe", "pipe", "pipe", "pipe", "pipe", "pipe"] : ["pipe", "pipe", "pipe"],
      env: launcherEnvironment(),
      // Its own process group, which the sandbox's first process never leaves (bwrap runs without
      // --new-session): killing the group reaches that process at every stage of its set-up.
      detached: true,
    });
    const launcher = child;
    if (launcher.pid !== undefined) options.onSpawn?.(launcher.pid);
    launcher.stdout!.on("data", (chunk: Buffer) => watch.stdout.push(chunk));
    launcher.stderr!.on("data", (chunk: Buffer) => watch.stderr.push(chunk));
    launcher.on("error", (error) => {
      failed = error;
      if (launcher.pid === undefined) options.onExit?.();
    });
    watch.start();
    if (gated) {
      gate(launcher, options.beforeStart!, (error) => {
        failed = error;
        watch.stop("aborted");
      });
    }
    launcher.on("exit", (code, signal) => {
      options.onExit?.();
      exitCode = code ?? 128 + signalNumber(signal);
      // Whatever the launcher left (a sandbox's first process orphaned during its set-up keeps the output
      // open and ignores every signal but SIGKILL) goes with it; the output is then drained, not awaited.
      if (launcher.pid !== undefined) killLauncherGroup(launcher.pid);
      startGrace();
    });
    launcher.on("close", () => finish(false));
    launcher.stdin!.on("error", () => {
      // the command did not read its input: fine
    });
    launcher.stdin!.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));
  });
}

/** Closes the output that stayed open past the grace and says so. */
function giveUpOnOutput(program: string, child: ChildProcess | undefined, waitedMs: number): void {
  for (const stream of child?.stdio ?? []) (stream as Readable | null)?.destroy();
  log.warn("a sandboxed command's output stayed open after its launcher ended; gave up waiting", {
    program,
    pid: child?.pid,
    launcher: child?.exitCode === null && child?.signalCode === null ? "running" : "exited",
    waitedMs,
  });
}

/**
 * Reads bwrap's info (fd 3) until it names the sandbox's first process, hands that pid to `beforeStart`, then
 * releases bwrap (fd 4) and the gated command (fd 5). A launcher that already ended is not released.
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
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      beforeStart(Number(pid));
      release.end("x");
      go.end("go\n");
    } catch (error) {
      // A first process that is already gone was killed with its launcher: the exit reports it.
      if ((error as NodeJS.ErrnoException).code === "ESRCH") return;
      onFailure(error as Error);
    }
  });
}

/**
 * SIGKILLs the process group the launcher leads. The sandbox's first process (its namespace's init) never
 * leaves it, and until its set-up is done it neither dies with the launcher nor heeds any other signal.
 */
export function killLauncherGroup(launcher: number): void {
  try {
    process.kill(-launcher, "SIGKILL");
  } catch {
    // already gone
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 9) : 0;
}
