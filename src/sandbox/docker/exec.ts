// One command inside a running container through the Engine API's exec: stdin in, demultiplexed and capped
// stdout/stderr out, and timeout/abort that kill the command's whole process tree (see process-tree.sh).

import { randomBytes } from "node:crypto";
import type { Duplex, Readable } from "node:stream";
import type Docker from "dockerode";
import { assetText } from "../../assets.js";
import { shellQuote } from "../../shell-quote.js";
import {
  COMMAND_GRACE_MS,
  type CommandOutcome,
  CommandWatch,
  outcomeWithoutOutput,
} from "../command-outcome.js";

// Comment lines are dropped: the script travels as an argument and shows up in process listings.
const PROCESS_TREE_SCRIPT = assetText(import.meta.url, "./process-tree.sh")
  .split("\n")
  .filter((line) => !/^\s*#/.test(line))
  .join("\n");

export interface ExecOptions {
  /** Shell command (bash -c, or sh -c without bash); or an argument vector, quoted into one. */
  command: string | readonly string[];
  cwd: string;
  /** "uid:gid" the command runs as (default: the image's user). The killer runs as the same user. */
  user?: string;
  env?: Record<string, string>;
  stdin?: string | Uint8Array;
  timeoutMs: number;
  maxOutputBytes: number;
  abortSignal?: AbortSignal;
}

const WATCHDOG_GRACE_MS = 1_000;

/**
 * Splits the engine's multiplexed exec stream (8-byte frame headers: stream type, 3 zero bytes, big-endian
 * length) into stdout and stderr.
 */
export class StreamDemultiplexer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly stdout: (chunk: Buffer) => void,
    private readonly stderr: (chunk: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const type = this.pending[0];
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + length) return;
      const payload = this.pending.subarray(8, 8 + length);
      if (type === 2) this.stderr(payload);
      else this.stdout(payload);
      this.pending = this.pending.subarray(8 + length);
    }
  }
}

/** Runs one exec to completion. Engine failures (container gone, engine down) reject; outcomes resolve. */
export async function execInContainer(
  container: Docker.Container,
  options: ExecOptions,
): Promise<CommandOutcome> {
  if (options.abortSignal?.aborted) return outcomeWithoutOutput("aborted");
  let stream: Duplex | undefined;
  let killing: Promise<void> | undefined;
  let forcedMs: number | undefined;
  const marker = randomBytes(8).toString("hex");
  const watch = new CommandWatch({
    ...options,
    onStop: () => {
      killing = killTree(container, marker, options.user).catch(() => undefined);
      // If something escaped the kill and still holds the output open, stop reading after the grace.
      setTimeout(() => {
        if (stream === undefined || stream.destroyed) return;
        forcedMs = COMMAND_GRACE_MS;
        stream.destroy();
      }, COMMAND_GRACE_MS).unref();
    },
  });
  const exec = await container.exec(execConfiguration(options, marker));
  const hasStdin = options.stdin !== undefined;
  stream = (await exec.start({ hijack: true, stdin: hasStdin })) as Duplex;
  const ended = demultiplexed(stream, watch);
  watch.start();
  if (hasStdin) {
    stream.on("error", () => undefined);
    // Half-closing the hijacked connection is the engine's signal for end of input.
    stream.end(Buffer.from(options.stdin!));
  }
  try {
    await ended;
  } catch (error) {
    if (!watch.stopped) throw error;
  } finally {
    watch.end();
  }
  // The killer is an engine request too: wait for it no longer than the grace.
  await Promise.race([killing, new Promise((resolve) => setTimeout(resolve, COMMAND_GRACE_MS).unref())]);
  return watch.outcome(watch.stopped ? null : await exitCodeOf(exec), forcedMs);
}

/** The exec that runs the command under the process-tree script, with the marker its killer looks for. */
function execConfiguration(options: ExecOptions, marker: string): Docker.ExecCreateOptions {
  const command =
    typeof options.command === "string" ? options.command : options.command.map(shellQuote).join(" ");
  return {
    Cmd: [
      "sh",
      "-c",
      PROCESS_TREE_SCRIPT,
      "process-tree",
      "run",
      marker,
      options.cwd,
      watchdogSeconds(options.timeoutMs),
      command,
    ],
    Env: Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
    WorkingDir: "/",
    User: options.user,
    AttachStdin: options.stdin !== undefined,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  };
}

/** Feeds the exec's multiplexed stream into the watch's stdout and stderr; settles when the stream ends. */
function demultiplexed(stream: Duplex, watch: CommandWatch): Promise<void> {
  const demultiplexer = new StreamDemultiplexer(
    (chunk) => watch.stdout.push(chunk),
    (chunk) => watch.stderr.push(chunk),
  );
  return new Promise<void>((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => demultiplexer.push(chunk));
    stream.once("end", () => resolve());
    stream.once("close", () => resolve());
    stream.once("error", (error) => reject(error));
  });
}

/** The in-container watchdog fires a little after our own timer, which normally wins and reports the timeout. */
function watchdogSeconds(timeoutMs: number): string {
  return ((timeoutMs + WATCHDOG_GRACE_MS) / 1000).toFixed(3);
}

/** The engine may report the exec as running for a moment after its stream closed. */
async function exitCodeOf(exec: Docker.Exec): Promise<number | null> {
  // Up to ~10 s in growing steps: a loaded engine can lag behind the stream.
  for (let attempt = 0; attempt < 60; attempt++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await new Promise((resolve) => setTimeout(resolve, Math.min(5 + attempt * 5, 250)));
  }
  return null;
}

async function killTree(
  container: Docker.Container,
  marker: string,
  user: string | undefined,
): Promise<void> {
  const exec = await container.exec({
    User: user,
    Cmd: ["sh", "-c", PROCESS_TREE_SCRIPT, "process-tree", "kill", marker],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Readable;
  await new Promise<void>((resolve) => {
    stream.resume();
    stream.once("end", resolve);
    stream.once("close", resolve);
    stream.once("error", () => resolve());
  });
}
