// One bubblewrap sandbox: a private workspace bound at the workdir, a private /tmp, and a fresh set of
// namespaces and control groups for every command. Files are read and written from the host when no
// symbolic link is involved, and through the sandbox otherwise, so a link can never reach the host.

import { writeFileSync } from "node:fs";
import { chmod, lstat, mkdir, readFile, realpath, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { InfrastructureError } from "../../errors.js";
import { createLogger } from "../../log.js";
import type { ResourceLimits } from "../../ports/sandbox.js";
import { shellQuote } from "../../shell-quote.js";
import type { CommandOutcome } from "../command-outcome.js";
import type { ResourceLedger } from "../resource-ledger.js";
import {
  type InFlightCommand,
  type LaunchOptions,
  SandboxBase,
  type SandboxBaseParts,
} from "../sandbox-base.js";
import { bubblewrapArguments, SANDBOX_PATH } from "./bubblewrap.js";
import { type CgroupSupport, CommandCgroup, removeWhenEmpty } from "./cgroups.js";
import { execute, killLauncherGroup } from "./execute.js";
import { GO_CACHE_PATH } from "./go-build-cache.js";
import type { Workspace } from "./workspace.js";
import { removeStateDirectory, removeStateDirectorySync } from "./workspace.js";

const log = createLogger("sandbox.local");

export interface LocalSandboxParts extends SandboxBaseParts {
  bubblewrap: string;
  /** Host directory shown at /etc (see ensureEtcView). */
  etc: string;
  stateDirectory: string;
  workspace: Workspace;
  /** Real path of the workspace (for symlink checks). */
  workspaceReal: string;
  temporary: string;
  cgroups: CgroupSupport | null;
  limits: ResourceLimits;
  readOnlyPaths: readonly string[];
  /** Host directory of this sandbox's Go build cache (its own view of the environment's warmed cache). */
  goCache: string | null;
  /** The backend's account: this sandbox's launchers and control groups are counted in it. */
  ledger: ResourceLedger;
  /** Releases of what the state directory holds (itself, its mounts), called once it is removed. */
  holdings: (() => void)[];
}

let commandCounter = 0;
let warnedUncontained = false;

export class LocalSandbox extends SandboxBase<LocalSandboxParts> {
  /** Host directory holding the repository (for benchmarks and diagnostics). */
  get workspacePath(): string {
    return this.parts.workspace.path;
  }

  protected async launch(options: LaunchOptions, command: InFlightCommand): Promise<CommandOutcome> {
    const parts = this.parts;
    const name = `p${process.pid}-${this.id}-${++commandCounter}`;
    const cgroup = parts.cgroups ? CommandCgroup.create(parts.cgroups, name, parts.limits) : undefined;
    const releaseCgroup = cgroup ? parts.ledger.hold("cgroups", cgroup.directories.length) : undefined;
    let pid: number | undefined;
    let releaseLauncher: (() => void) | undefined;
    // The launcher leads its own process group, which the sandbox's first process (its namespace's init)
    // never leaves. Killing the launcher alone is not enough: until that init has set up (and asked to die
    // with its parent) it outlives the launcher, blocked in bwrap's set-up, holding the command's output,
    // and as a namespace init it ignores every signal from outside but SIGKILL. So the group goes, whole
    // (execute kills it on timeout, abort and the launcher's exit), and the control group after it.
    const killTree = () => cgroup?.killAll();
    command.killNow = () => {
      if (pid !== undefined) killLauncherGroup(pid);
      cgroup?.killAll();
      cgroup?.remove();
    };
    try {
      return await execute({
        ...this.launcher(options, cgroup),
        stdin: options.stdin,
        timeoutMs: options.timeoutMs,
        maxOutputBytes: options.maxOutputBytes,
        abortSignal: command.signal,
        onSpawn: (launcher) => {
          pid = launcher;
          releaseLauncher = parts.ledger.hold("processes");
        },
        onExit: () => releaseLauncher?.(),
        killTree,
      });
    } finally {
      if (cgroup) removeWhenEmpty(cgroup, () => releaseCgroup?.());
    }
  }

  /**
   * With control groups, bwrap itself hands us the sandbox's first process to place before it runs anything;
   * without, a shell sets the per-user process limit, then becomes bwrap.
   */
  private launcher(
    options: LaunchOptions,
    cgroup: CommandCgroup | undefined,
  ): { program: string; args: string[]; beforeStart?: (pid: number) => void } {
    const parts = this.parts;
    const bubblewrapArgs = bubblewrapArguments({
      etc: parts.etc,
      workspace: parts.workspace.path,
      workdir: this.workdir,
      temporary: parts.temporary,
      cwd: options.cwd === undefined ? this.workdir : posix.resolve(this.workdir, options.cwd),
      environment: {
        PATH: SANDBOX_PATH,
        HOME: "/tmp",
        LANG: "C.UTF-8",
        TMPDIR: "/tmp",
        ...(parts.goCache === null ? {} : { GOCACHE: GO_CACHE_PATH }),
        ...options.env,
      },
      command: options.command,
      readOnlyPaths: parts.readOnlyPaths,
      writablePaths: parts.goCache === null ? [] : [{ source: parts.goCache, target: GO_CACHE_PATH }],
      gated: cgroup !== undefined,
    });
    if (cgroup) {
      return {
        program: parts.bubblewrap,
        args: ["--info-fd", "3", "--block-fd", "4", ...bubblewrapArgs],
        beforeStart: (pid: number) => {
          for (const file of cgroup.procsFiles) writeFileSync(file, String(pid));
        },
      };
    }
    return {
      program: "/bin/sh",
      args: ["-c", launcherScript(parts.limits), "launcher", parts.bubblewrap, ...bubblewrapArgs],
    };
  }

  protected launchFailed(error: unknown): InfrastructureError {
    return new InfrastructureError(
      "sandbox-launch-failed",
      `cannot start a command in sandbox ${this.id}: ${String(error)}`,
      { cause: error, data: { sandbox: this.id } },
    );
  }

  protected async release(): Promise<void> {
    await this.settled();
    await removeStateDirectory(this.parts.stateDirectory);
    for (const release of this.parts.holdings) release();
  }

  protected releaseSync(): void {
    removeStateDirectorySync(this.parts.stateDirectory);
    for (const release of this.parts.holdings) release();
  }

  async readFile(path: string): Promise<Buffer> {
    this.assertAlive();
    const inside = this.insidePath(path);
    const host = await this.hostPathForRead(inside);
    if (host === null) return this.readThroughShell(inside);
    try {
      return await readFile(host);
    } catch (error) {
      throw this.missingFile(inside, error);
    }
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
    if (outcome.status !== "exited" || outcome.exitCode !== 0) throw this.writeFailed(inside, outcome);
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
