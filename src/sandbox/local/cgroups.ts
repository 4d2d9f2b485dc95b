// Per-command control groups: a pids cap (fork bombs), a memory cap and a CPU quota, and a way to kill
// every process of a command. cgroup v1 (one hierarchy per controller) and v2 (unified) are supported.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ResourceLimits } from "../../ports/sandbox.js";

const ROOT = "/sys/fs/cgroup";
const GROUP_NAME = "swe-selfplay";

export interface CgroupSupport {
  version: 1 | 2;
  /** v1: parent directory per controller ("pids", "memory", "cpu"); v2: one parent under "unified". */
  parents: Record<string, string>;
}

/** Finds writable cgroup parents for our commands, or null when none can be created (unprivileged). */
export function detectCgroups(): CgroupSupport | null {
  try {
    if (existsSync(join(ROOT, "cgroup.controllers"))) return detectVersion2();
    return detectVersion1();
  } catch {
    return null;
  }
}

function ownPaths(): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, controllers, path] = line.split(":");
    if (controllers === undefined || path === undefined) continue;
    for (const controller of controllers.split(",")) paths.set(controller, path);
  }
  return paths;
}

function detectVersion1(): CgroupSupport | null {
  const own = ownPaths();
  const parents: Record<string, string> = {};
  for (const controller of ["pids", "memory", "cpu"]) {
    const hierarchy = join(ROOT, controller);
    if (!existsSync(join(hierarchy, "cgroup.procs"))) continue;
    // Nest under our own cgroup so that limits imposed on us still apply to our commands.
    const parent = join(hierarchy, own.get(controller) ?? "/", GROUP_NAME);
    try {
      mkdirSync(parent, { recursive: true });
      probeWritable(parent);
      parents[controller] = parent;
    } catch {
      // not writable (unprivileged): skip this controller
    }
  }
  return parents.pids ? { version: 1, parents } : null;
}

function detectVersion2(): CgroupSupport | null {
  const own = ownPaths().get("") ?? "/";
  // A process may not live in a cgroup that has children with controllers, so we use a sibling of ours
  // at the nearest level where we may create groups: the root when privileged.
  for (const base of [ROOT, join(ROOT, own)]) {
    try {
      const parent = join(base, GROUP_NAME);
      mkdirSync(parent, { recursive: true });
      probeWritable(parent);
      const available = readFileSync(join(base, "cgroup.controllers"), "utf8").trim().split(/\s+/);
      const wanted = ["pids", "memory", "cpu"].filter((controller) => available.includes(controller));
      if (!wanted.includes("pids")) continue;
      writeFileSync(join(base, "cgroup.subtree_control"), wanted.map((name) => `+${name}`).join(" "));
      writeFileSync(join(parent, "cgroup.subtree_control"), wanted.map((name) => `+${name}`).join(" "));
      return { version: 2, parents: { unified: parent } };
    } catch {
      // try the next base
    }
  }
  return null;
}

/** The control groups of one command; every directory holds the same processes. */
export class CommandCgroup {
  private constructor(
    readonly support: CgroupSupport,
    readonly directories: string[],
  ) {}

  static create(support: CgroupSupport, name: string, limits: ResourceLimits): CommandCgroup {
    const directories: string[] = [];
    const group = new CommandCgroup(support, directories);
    try {
      if (support.version === 2) {
        const directory = join(support.parents.unified!, name);
        mkdirSync(directory);
        directories.push(directory);
        if (limits.pids) writeFileSync(join(directory, "pids.max"), String(limits.pids));
        if (limits.memoryBytes) {
          writeFileSync(join(directory, "memory.max"), String(limits.memoryBytes));
          tryWrite(join(directory, "memory.swap.max"), "0");
        }
        if (limits.cpus) tryWrite(join(directory, "cpu.max"), `${Math.round(limits.cpus * 100_000)} 100000`);
        return group;
      }
      for (const [controller, parent] of Object.entries(support.parents)) {
        if (controller === "memory" && !limits.memoryBytes) continue;
        if (controller === "cpu" && !limits.cpus) continue;
        const directory = join(parent, name);
        mkdirSync(directory);
        directories.push(directory);
        if (controller === "pids" && limits.pids)
          writeFileSync(join(directory, "pids.max"), String(limits.pids));
        if (controller === "memory" && limits.memoryBytes) {
          writeFileSync(join(directory, "memory.limit_in_bytes"), String(limits.memoryBytes));
          tryWrite(join(directory, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
        }
        if (controller === "cpu" && limits.cpus) {
          writeFileSync(join(directory, "cpu.cfs_period_us"), "100000");
          writeFileSync(join(directory, "cpu.cfs_quota_us"), String(Math.round(limits.cpus * 100_000)));
        }
      }
      return group;
    } catch (error) {
      group.remove();
      throw error;
    }
  }

  /** Files a launcher writes its own pid into before it execs the command. */
  get procsFiles(): string[] {
    return this.directories.map((directory) => join(directory, "cgroup.procs"));
  }

  /** Process ids still in the group. */
  members(): number[] {
    const first = this.directories[0];
    if (!first) return [];
    try {
      return readFileSync(join(first, "cgroup.procs"), "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map(Number);
    } catch {
      return [];
    }
  }

  /** SIGKILLs every member, repeatedly, until none is left (processes forked meanwhile included). */
  killAll(): void {
    const first = this.directories[0];
    if (!first) return;
    if (this.support.version === 2 && tryWrite(join(first, "cgroup.kill"), "1")) return;
    for (let round = 0; round < 200; round++) {
      const members = this.members();
      if (members.length === 0) return;
      for (const pid of members) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  }

  /** Removes the group directories; a group with members left is killed first. True when all are gone. */
  remove(attempts = 50): boolean {
    let removed = true;
    for (const directory of this.directories) {
      removed = this.removeDirectory(directory, attempts) && removed;
    }
    return removed;
  }

  private removeDirectory(directory: string, attempts: number): boolean {
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        rmdirSync(directory);
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return true;
        if (code !== "EBUSY") return false;
        this.killAll();
        sleepSync(2);
      }
    }
    return false;
  }
}

/**
 * Removes a command's group now, or, when it cannot be removed yet (its killed processes are zombies whose
 * parent outside the group has not reaped them, as after a fork bomb), once it can: it is tried again every
 * `intervalMs` until it is gone. `onRemoved` is told when it is. Returns true when it was removed at once.
 */
export function removeWhenEmpty(
  group: CommandCgroup,
  onRemoved: () => void,
  options: { intervalMs?: number; attempts?: number } = {},
): boolean {
  if (group.remove()) {
    onRemoved();
    return true;
  }
  let left = options.attempts ?? 600;
  // Later tries are single ones: the event loop is not held while the group stays busy.
  const timer = setInterval(() => {
    if (group.remove(1)) {
      clearInterval(timer);
      onRemoved();
    } else if (--left <= 0) clearInterval(timer);
  }, options.intervalMs ?? 1_000);
  timer.unref();
  return false;
}

/** Removes groups left behind by processes that died without cleaning up (empty ones only). */
export function removeStaleCgroups(support: CgroupSupport, isLive: (name: string) => boolean): void {
  for (const { parent, name } of childGroups(support)) {
    if (isLive(name)) continue;
    try {
      rmdirSync(join(parent, name));
    } catch {
      // still has processes or belongs to a live process: leave it
    }
  }
}

/** The groups directly below our parent groups, in every hierarchy (an unreadable parent has none). */
export function childGroups(support: CgroupSupport): { parent: string; name: string }[] {
  return Object.values(support.parents).flatMap((parent) => {
    try {
      return readdirSync(parent, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => ({ parent, name: entry.name }));
    } catch {
      return [];
    }
  });
}

/** Throws unless we may create groups below `parent` (it may exist, made by another user). */
function probeWritable(parent: string): void {
  const probe = join(parent, `probe-${process.pid}`);
  mkdirSync(probe);
  rmdirSync(probe);
}

function tryWrite(path: string, content: string): boolean {
  try {
    writeFileSync(path, content);
    return true;
  } catch {
    return false;
  }
}

function sleepSync(milliseconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}
