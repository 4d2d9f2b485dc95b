// Client of mount-helper.py: one helper process per program mounts and unmounts overlay workspaces with
// direct system calls, and kills what is left in our control groups if the program dies abruptly. When
// it cannot run (no python3, not root), callers fall back to the mount programs.

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./mount-helper.py", import.meta.url));
const PYTHON = ["/usr/bin/python3", "/bin/python3"].find((path) => existsSync(path));

export type MountRequest =
  | { op: "mount"; target: string; options: string }
  | { op: "unmount"; target: string }
  | { op: "watch"; parents: string[]; prefix: string; owner?: number };
/** The helper's answer, read from its wire form (`{"ok": true}` or `{"ok": false, "error": E}`). */
export type MountReply = { status: "done" } | { status: "failed"; error: string };

function replyFrom(line: string): MountReply {
  let wire: { ok?: unknown; error?: unknown };
  try {
    wire = JSON.parse(line) as { ok?: unknown; error?: unknown };
  } catch {
    return { status: "failed", error: `unreadable reply from mount helper: ${line}` };
  }
  if (wire.ok === true) return { status: "done" };
  return {
    status: "failed",
    error: typeof wire.error === "string" ? wire.error : `mount helper said: ${line}`,
  };
}

class MountHelper {
  private readonly pending: Array<(reply: MountReply) => void> = [];
  private buffered = "";
  dead = false;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => this.receive(chunk));
    child.stderr.resume();
    child.stdin.on("error", () => this.fail("mount helper input closed"));
    child.on("error", () => this.fail("mount helper failed to start"));
    child.on("close", () => this.fail("mount helper exited"));
    this.hold(false);
  }

  /** Keeps the program alive while a request waits for its reply, never while the helper is idle. */
  private hold(active: boolean): void {
    if (active) this.child.ref();
    else this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) {
      const handle = stream as unknown as { ref?: () => void; unref?: () => void };
      if (active) handle.ref?.();
      else handle.unref?.();
    }
  }

  request(request: MountRequest): Promise<MountReply> {
    if (this.dead) return Promise.resolve({ status: "failed", error: "mount helper not running" });
    return new Promise((resolve) => {
      if (this.pending.length === 0) this.hold(true);
      this.pending.push(resolve);
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    for (let newline = this.buffered.indexOf("\n"); newline >= 0; newline = this.buffered.indexOf("\n")) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      const resolve = this.pending.shift();
      if (this.pending.length === 0) this.hold(false);
      resolve?.(replyFrom(line));
    }
  }

  private fail(reason: string): void {
    this.dead = true;
    this.hold(false);
    for (const resolve of this.pending.splice(0)) resolve({ status: "failed", error: reason });
  }
}

let helper: MountHelper | undefined;

/** Sends one request to the shared helper; null when no helper can run here (use the mount programs). */
export async function mountRequest(request: MountRequest): Promise<MountReply | null> {
  if (!PYTHON || process.getuid?.() !== 0) return null;
  if (!helper || helper.dead) {
    helper = new MountHelper(
      spawn(PYTHON, ["-I", "-S", SCRIPT], { stdio: ["pipe", "pipe", "pipe"], env: {} }),
    );
  }
  const reply = await helper.request(request);
  if (reply.status === "failed" && helper.dead) return null;
  return reply;
}
