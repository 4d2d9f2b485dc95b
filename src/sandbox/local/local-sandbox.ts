// One bubblewrap sandbox: a private workspace bound at the workdir, a private /tmp, and a fresh set of
// namespaces and control groups for every command. Files are read and written from the host when no
// symbolic link is involved, and through the sandbox otherwise, so a link can never reach the host.

import { writeFileSync } from "node:fs";
import { chmod, lstat, mkdir, readFile, realpath, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { InfrastructureError, InputError } from "../../errors.js";
import { createLogger } from "../../log.js";
import type {
  ApplyResult,
  ResourceLimits,
  RunOptions,
  RunResult,
  Sandbox,
  SandboxSpec,
} from "../../ports/sandbox.js";
import { type ChangeTracker, TrackedTree } from "../change-tracking.js";
import { bubblewrapArguments, SANDBOX_PATH } from "./bubblewrap.js";
import { type CgroupSupport, CommandCgroup } from "./cgroups.js";
import { type ExecuteOutcome, execute } from "./execute.js";
import type { Workspace } from "./workspace.js";
import { removeStateDirectory, removeStateDirectorySync } from "./workspace.js";

const log = createLogger("sandbox.local");

export interface LocalSandboxParts {
  id: string;
  spec: SandboxSpec;
  workdir: string;
  bubblewrap: string;
  /** Host directory shown at /etc (see ensureEtcView). */
  etc: string;
  stateDirectory: string;
  workspace: Workspace;
  /** Real path of the workspace (for symlink checks). */
  workspaceReal: string;
  temporary: string;
  tracker: ChangeTracker;
  indexFile: string;
  startTree: string;
  cgroups: CgroupSupport | null;
  limits: ResourceLimits;
  defaultTimeoutMs: number;
  maxOutputBytes: number;
  readOnlyPaths: readonly string[];
  onDestroyed: () => void;
}

interface InFlight {
  controller: AbortController;
  pid?: number;
  cgroup?: CommandCgroup;
  done: Promise<unknown>;
}

let commandCounter = 0;
let warnedUncontained = false;

/** Largest file readFile returns through the sandbox (host reads have no cap). */
const READ_LIMIT = 256 * 1024 * 1024;

export class LocalSandbox implements Sandbox {
  readonly id: string;
  readonly spec: SandboxSpec;
  readonly workdir: string;
  private readonly tracked: TrackedTree;
  private destroying: Promise<void> | undefined;
  private readonly inFlight = new Set<InFlight>();

  constructor(private readonly parts: LocalSandboxParts) {
    this.id = parts.id;
    this.spec = parts.spec;
    this.workdir = parts.workdir;
    this.tracked = new TrackedTree(parts.tracker, parts.indexFile, parts.startTree);
  }

  /** Host directory holding the repository (for benchmarks and diagnostics). */
  get workspacePath(): string {
    return this.parts.workspace.path;
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

  private async execute(options: RunOptions): Promise<ExecuteOutcome> {
    this.assertAlive();
    const parts = this.parts;
    const cwd = options.cwd === undefined ? this.workdir : posix.resolve(this.workdir, options.cwd);
    const environment = {
      PATH: SANDBOX_PATH,
      HOME: "/tmp",
      LANG: "C.UTF-8",
      TMPDIR: "/tmp",
      ...options.env,
    };
    const bubblewrapArgs = bubblewrapArguments({
      etc: parts.etc,
      workspace: parts.workspace.path,
      workdir: this.workdir,
      temporary: parts.temporary,
      cwd,
      environment,
      command: options.command,
      readOnlyPaths: parts.readOnlyPaths,
      gated: parts.cgroups !== null,
    });
    const name = `p${process.pid}-${this.id}-${++commandCounter}`;
    const cgroup = parts.cgroups ? CommandCgroup.create(parts.cgroups, name, parts.limits) : undefined;
    // With control groups, bwrap itself hands us the sandbox's first process to place before it runs
    // anything; without, a shell sets the per-user process limit, then becomes bwrap.
    const launch = cgroup
      ? {
          program: parts.bubblewrap,
          args: ["--info-fd", "3", "--block-fd", "4", ...bubblewrapArgs],
          beforeStart: (pid: number) => {
            for (const file of cgroup.procsFiles) writeFileSync(file, String(pid));
          },
        }
      : {
          program: "/bin/sh",
          args: ["-c", launcherScript(parts.limits), "launcher", parts.bubblewrap, ...bubblewrapArgs],
        };
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.abortSignal?.addEventListener("abort", abort, { once: true });
    if (options.abortSignal?.aborted) controller.abort();
    const entry: InFlight = { controller, cgroup, done: Promise.resolve() };
    const killTree = (pid: number | undefined) => {
      if (pid !== undefined) {
        entry.pid = pid;
        try {
          // The launcher has exec'd bwrap; its death takes the sandbox's pid 1 and so every process with it.
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      cgroup?.killAll();
    };
    const running = execute({
      ...launch,
      stdin: options.stdin,
      timeoutMs: options.timeoutMs ?? parts.defaultTimeoutMs,
      maxOutputBytes: options.maxOutputBytes ?? parts.maxOutputBytes,
      abortSignal: controller.signal,
      killTree,
    });
    entry.done = running.catch(() => undefined);
    this.inFlight.add(entry);
    try {
      return await running;
    } catch (error) {
      throw new InfrastructureError(
        "sandbox-launch-failed",
        `cannot start a command in sandbox ${this.id}: ${String(error)}`,
        { cause: error, data: { sandbox: this.id } },
      );
    } finally {
      this.inFlight.delete(entry);
      options.abortSignal?.removeEventListener("abort", abort);
      cgroup?.remove();
    }
  }

  async readFile(path: string): Promise<Buffer> {
    this.assertAlive();
    const inside = this.insidePath(path);
    const host = await this.hostPathForRead(inside);
    if (host !== null) {
      try {
        return await readFile(host);
      } catch (error) {
        throw missing(this.id, inside, error);
      }
    }
    const outcome = await this.execute({
      command: `cat -- ${shellQuote(inside)}`,
      timeoutMs: 60_000,
      maxOutputBytes: READ_LIMIT,
    });
    if (outcome.status !== "exited" || outcome.exitCode !== 0) {
      throw new InputError(
        "sandbox-file-missing",
        `cannot read ${inside} in sandbox ${this.id}: ${outcome.stderr.toString("utf8").trim()}`,
        {
          data: { sandbox: this.id, path: inside },
        },
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
    const host = await this.hostPathForWrite(inside);
    if (host !== null) {
      await mkdir(dirname(host), { recursive: true });
      await writeFile(host, content);
      if (options.mode !== undefined) await chmod(host, options.mode);
      return;
    }
    const quoted = shellQuote(inside);
    const mode = options.mode === undefined ? "" : ` && chmod ${options.mode.toString(8)} -- ${quoted}`;
    const outcome = await this.execute({
      command: `mkdir -p -- "$(dirname -- ${quoted})" && cat > ${quoted}${mode}`,
      stdin: typeof content === "string" ? content : Buffer.from(content),
      timeoutMs: 60_000,
    });
    if (outcome.status !== "exited" || outcome.exitCode !== 0) {
      throw new InputError(
        "sandbox-write-failed",
        `cannot write ${inside} in sandbox ${this.id}: ${outcome.stderr.toString("utf8").trim()}`,
        {
          data: { sandbox: this.id, path: inside },
        },
      );
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
      await Promise.all([...this.inFlight].map((entry) => entry.done));
      await this.tracked.settled();
      try {
        await removeStateDirectory(this.parts.stateDirectory);
      } finally {
        this.parts.onDestroyed();
      }
    })();
    return this.destroying;
  }

  /** For the registry's exit hook: kill, unmount and remove without waiting on anything. */
  destroySync(): void {
    this.destroying ??= Promise.resolve();
    for (const entry of this.inFlight) {
      if (entry.pid !== undefined) {
        try {
          process.kill(entry.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      entry.cgroup?.killAll();
      entry.cgroup?.remove();
    }
    removeStateDirectorySync(this.parts.stateDirectory);
    this.parts.onDestroyed();
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

  /** Maps a sandbox path to the host path that holds it, or null for paths the sandbox must resolve. */
  private mapToHost(inside: string): { root: string; path: string } | null {
    const mounts: [string, string][] = [
      [this.workdir, this.parts.workspaceReal],
      ["/tmp", this.parts.temporary],
    ];
    for (const [prefix, root] of mounts) {
      if (inside === prefix) return { root, path: root };
      if (inside.startsWith(`${prefix}/`)) return { root, path: join(root, inside.slice(prefix.length + 1)) };
    }
    return null;
  }

  private async hostPathForRead(inside: string): Promise<string | null> {
    const mapped = this.mapToHost(inside);
    if (!mapped) return null;
    try {
      // Any symbolic link on the way is resolved by the sandbox, where it cannot point at host files.
      return (await realpath(mapped.path)) === mapped.path ? mapped.path : null;
    } catch {
      // missing here, or behind a link that only resolves inside the sandbox: let the sandbox answer
      return null;
    }
  }

  private async hostPathForWrite(inside: string): Promise<string | null> {
    const mapped = this.mapToHost(inside);
    if (!mapped || mapped.path === mapped.root) return null;
    try {
      const entry = await lstat(mapped.path);
      if (entry.isSymbolicLink()) return null;
    } catch {
      // does not exist yet
    }
    let ancestor = dirname(mapped.path);
    for (;;) {
      try {
        return (await realpath(ancestor)) === ancestor ? mapped.path : null;
      } catch {
        if (ancestor === mapped.root) return null;
        ancestor = dirname(ancestor);
      }
    }
  }
}

/** The shell that sets the process limit when no control group can, then becomes bwrap. */
function launcherScript(limits: ResourceLimits): string {
  // The per-user process limit does not bind root; bash and dash name it differently.
  if (process.getuid?.() !== 0 && limits.pids) {
    return `{ ulimit -u ${limits.pids} 2>/dev/null || ulimit -p ${limits.pids}; } && exec "$@"`;
  }
  if (!warnedUncontained) {
    warnedUncontained = true;
    log.warn("no writable cgroup and running as root: process count and memory are not capped");
  }
  return `exec "$@"`;
}

function missing(id: string, inside: string, cause: unknown): InputError {
  return new InputError("sandbox-file-missing", `no such file in sandbox ${id}: ${inside}`, {
    data: { sandbox: id, path: inside },
    cause,
  });
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
