// Every sandbox launcher carries one environment variable naming who started it: "<run tag>/<owner pid>",
// the run tag taken from SWE_SELFPLAY_RUN_TAG (a test suite sets one per run). bwrap clears the environment
// before the command starts, so only the launcher and the sandbox's first process carry it, and so the
// launchers a run or a process started can be found in /proc (and checked or killed) by whoever started them.

import { readdirSync, readFileSync } from "node:fs";

export const LAUNCHER_VARIABLE = "SWE_SELFPLAY_LAUNCHER";
export const RUN_TAG_VARIABLE = "SWE_SELFPLAY_RUN_TAG";

/** The environment a launcher is started with: the marker only (bwrap sets the command's own). */
export function launcherEnvironment(): Record<string, string> {
  return { [LAUNCHER_VARIABLE]: `${process.env[RUN_TAG_VARIABLE] ?? ""}/${process.pid}` };
}

export interface MarkedProcess {
  pid: number;
  /** The process group, which is the launcher's pid. */
  pgid: number;
  tag: string;
  owner: number;
  command: string;
}

/** Live processes (zombies excluded) carrying a launcher marker that `accept` accepts. */
export function markedProcesses(accept: (tag: string, owner: number) => boolean): MarkedProcess[] {
  const found: MarkedProcess[] = [];
  let names: string[] = [];
  try {
    names = readdirSync("/proc");
  } catch {
    return found;
  }
  const prefix = `${LAUNCHER_VARIABLE}=`;
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const entry = readFileSync(`/proc/${name}/environ`, "utf8")
        .split("\0")
        .find((variable) => variable.startsWith(prefix));
      if (entry === undefined) continue;
      const value = entry.slice(prefix.length);
      const slash = value.lastIndexOf("/");
      const tag = value.slice(0, slash);
      const owner = Number(value.slice(slash + 1));
      if (!accept(tag, owner)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      const command = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ").trim();
      found.push({ pid: Number(name), pgid: Number(fields[2]), tag, owner, command });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** SIGKILLs each process and its process group (the launcher's), e.g. launchers whose owner died. */
export function killMarked(processes: readonly MarkedProcess[]): void {
  const own = ownProcessGroup();
  for (const entry of processes) {
    const targets = entry.pgid > 1 && entry.pgid !== own ? [-entry.pgid, entry.pid] : [entry.pid];
    for (const target of targets) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

function ownProcessGroup(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

/**
 * SIGKILLs, with their process groups, the launchers whose owning process is gone (`isAlive` says no), e.g.
 * a sandbox's first process orphaned in its set-up when its owner was SIGKILLed. Returns what it killed.
 */
export function sweepOrphanedLaunchers(isAlive: (pid: number) => boolean): MarkedProcess[] {
  const orphans = markedProcesses((_tag, owner) => owner !== process.pid && owner > 0 && !isAlive(owner));
  killMarked(orphans);
  return orphans;
}
