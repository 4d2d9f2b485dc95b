// The soak's fault injector: a schedule drawn from a seed (which fault, when), and the faults themselves,
// each scoped to what the soak started: its service's sandbox processes, its service process, its own
// size-limited tmpfs, its own blkio control group. Restarting dockerd touches the whole machine: it is a
// fault kind only when asked for (`--restart-dockerd`), never in CI.
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { commandCgroups } from "../../test/support/system-resources.js";

export const FAULT_KINDS = [
  "kill-sandbox-process",
  "kill-service",
  "fill-temp",
  "fork-suite",
  "memory-suite",
  "slow-disk",
  "restart-dockerd",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** mulberry32: a small seeded generator, so a soak's schedule is the same for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ScheduledFault {
  atMs: number;
  kind: FaultKind;
}

/**
 * Faults at random moments (on average one per `everyMs`, never in the first or last tenth of the soak),
 * their kinds drawn from `kinds`; every kind appears at least once when the soak is long enough.
 */
export function faultSchedule(seed: number, lengthMs: number, everyMs: number, kinds: readonly FaultKind[]) {
  const random = seededRandom(seed);
  const schedule: ScheduledFault[] = [];
  const start = lengthMs * 0.1;
  const end = lengthMs * 0.85;
  const count = Math.max(kinds.length, Math.floor((end - start) / everyMs));
  // Every kind once, then random kinds; shuffled; at evenly spread moments with jitter.
  const drawn: FaultKind[] = [...kinds];
  while (drawn.length < count) drawn.push(kinds[Math.floor(random() * kinds.length)]!);
  for (let index = drawn.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [drawn[index], drawn[other]] = [drawn[other]!, drawn[index]!];
  }
  const gap = (end - start) / drawn.length;
  drawn.forEach((kind, index) => {
    schedule.push({ atMs: Math.round(start + gap * index + random() * gap * 0.8), kind });
  });
  return schedule;
}

/** Processes inside the command control groups of these service processes (what runs in their sandboxes). */
export function sandboxedProcesses(owners: readonly number[]): number[] {
  const pids = new Set<number>();
  for (const group of commandCgroups(owners)) {
    try {
      for (const line of readFileSync(join(group, "cgroup.procs"), "utf8").split("\n"))
        if (line !== "") pids.add(Number(line));
    } catch {
      // removed meanwhile
    }
  }
  return [...pids];
}

/** A size-limited tmpfs of the soak's own (root), or a plain directory when it cannot mount one. */
export function ownTemporaryFilesystem(path: string, sizeMiB: number): { mounted: boolean; remove(): void } {
  mkdirSync(path, { recursive: true });
  let mounted = false;
  if (process.getuid?.() === 0) {
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m,mode=0755`, "swe-selfplay-soak", path]);
      mounted = true;
    } catch {
      // no mount here: a plain directory, and no fill fault
    }
  }
  return {
    mounted,
    remove() {
      if (mounted) execFileSync("umount", ["-l", path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Bytes used on the file system at `path`. */
export function usedBytes(path: string): number {
  const stats = statfsSync(path);
  return (stats.blocks - stats.bfree) * stats.bsize;
}

/** Fills the file system at `directory` to the last 64 KiB; the returned function frees it again. */
export function fillFilesystem(directory: string): () => void {
  const file = join(directory, `soak-fill-${process.pid}`);
  // Sandboxes write meanwhile: what was free a moment ago may not be; then ask for a little less.
  for (let margin = 64 * 1024; margin < 256 * 1024 ** 2; margin *= 4) {
    const stats = statfsSync(directory);
    const free = stats.bavail * stats.bsize - margin;
    if (free <= 0) break;
    try {
      execFileSync("fallocate", ["-l", String(free), file], { stdio: "ignore" });
      break;
    } catch {
      rmSync(file, { force: true });
    }
  }
  return () => rmSync(file, { force: true });
}

/**
 * A blkio control group (cgroup v1) of the soak's own: the service processes are placed in it, and a slow
 * disk is a read and write limit on the store's device for that group alone. On cgroup v1 buffered writes
 * are written back outside the group, so reads and synchronous writes are what slows down.
 */
export class SlowDisk {
  private readonly directory: string | undefined;
  private readonly device: string | undefined;

  constructor(name: string, storeDirectory: string) {
    const root = "/sys/fs/cgroup/blkio";
    if (process.getuid?.() !== 0 || !existsSync(join(root, "blkio.throttle.read_bps_device"))) return;
    const deviceNumber = statfsDevice(storeDirectory);
    if (deviceNumber === undefined) return;
    const directory = join(root, name);
    try {
      mkdirSync(directory, { recursive: true });
      this.directory = directory;
      this.device = deviceNumber;
    } catch {
      // not writable here
    }
  }

  get available(): boolean {
    return this.directory !== undefined;
  }

  /** Places a process (and so everything it starts from now on) in the group. */
  adopt(pid: number): void {
    if (this.directory) writeFileSync(join(this.directory, "cgroup.procs"), String(pid));
  }

  /** Limits reads and writes to `bytesPerSecond`; 0 lifts the limit. */
  limit(bytesPerSecond: number): void {
    if (!this.directory || !this.device) return;
    for (const file of ["blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device"])
      writeFileSync(join(this.directory, file), `${this.device} ${bytesPerSecond}`);
  }

  /** Processes left in the group. */
  members(): number[] {
    if (!this.directory) return [];
    try {
      return readFileSync(join(this.directory, "cgroup.procs"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  }

  remove(): void {
    if (!this.directory) return;
    this.limit(0);
    try {
      rmdirSync(this.directory);
    } catch {
      // members left: reported by the leak check
    }
  }
}

/** "major:minor" of the block device behind a directory, when it is one (not an overlay or tmpfs). */
function statfsDevice(directory: string): string | undefined {
  const mountinfo = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  let best: { point: string; device: string } | undefined;
  for (const line of mountinfo) {
    const fields = line.split(" ");
    const point = fields[4];
    const device = fields[2];
    if (!point || !device) continue;
    if (
      (directory === point || directory.startsWith(point === "/" ? "/" : `${point}/`)) &&
      (!best || point.length > best.point.length)
    )
      best = { point, device };
  }
  if (!best || best.device.startsWith("0:")) return undefined;
  const [major] = best.device.split(":");
  // Throttling applies to whole disks: a partition's limit goes to its disk (minor 0 of the major here).
  return existsSync(`/sys/dev/block/${best.device}`) ? `${major}:${best.device.split(":")[1]}` : undefined;
}

/** The machine's dockerd, restarted with the same command line (only with --restart-dockerd). */
export async function restartDockerd(): Promise<string> {
  const pid = readdirSync("/proc").find((name) => {
    if (!/^\d+$/.test(name)) return false;
    try {
      return readFileSync(`/proc/${name}/comm`, "utf8").trim() === "dockerd";
    } catch {
      return false;
    }
  });
  if (!pid) return "no dockerd running";
  const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  process.kill(Number(pid), "SIGTERM");
  for (let waited = 0; existsSync(`/proc/${pid}`) && waited < 60_000; waited += 200)
    await new Promise((resolve) => setTimeout(resolve, 200));
  const restarted = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: "ignore" });
  restarted.unref();
  return `dockerd ${pid} restarted as ${restarted.pid}`;
}
