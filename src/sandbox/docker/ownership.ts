// Which run and which process own a container (labels), and the reaper that removes containers whose
// owning process is gone, so a crash never leaves sandboxes running.

import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type Docker from "dockerode";
import { createLogger } from "../../log.js";

const log = createLogger("sandbox.docker");

export const LABELS = {
  run: "swe-selfplay.run",
  owner: "swe-selfplay.owner",
  label: "swe-selfplay.label",
} as const;

export interface Owner {
  host: string;
  pid: number;
  /** Process start time in clock ticks since boot: tells a live owner from a reused pid. */
  startTime: string;
}

/** Start time of a process from /proc, or undefined when it does not exist. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at ") "; starttime is field 22.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function currentOwner(): Owner {
  return { host: hostname(), pid: process.pid, startTime: processStartTime(process.pid) ?? "unknown" };
}

export function formatOwner(owner: Owner): string {
  return `${owner.host}/${owner.pid}/${owner.startTime}`;
}

export function parseOwner(text: string): Owner | undefined {
  const match = text.match(/^(.*)\/(\d+)\/([^/]+)$/);
  if (!match) return undefined;
  return { host: match[1]!, pid: Number(match[2]), startTime: match[3]! };
}

/** Alive means: same host, the pid exists and started when the label says. Other hosts are never judged. */
export function isOwnerGone(owner: Owner, host = hostname()): boolean {
  if (owner.host !== host) return false;
  return processStartTime(owner.pid) !== owner.startTime;
}

/**
 * Removes every container labelled as ours whose owner process is gone. Returns the ids removed.
 * Containers from other hosts sharing the engine are left alone.
 */
export async function reapLeakedContainers(docker: Docker): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [LABELS.owner] } });
  const removed: string[] = [];
  await Promise.all(
    containers.map(async (info) => {
      const owner = parseOwner(info.Labels?.[LABELS.owner] ?? "");
      if (!owner || !isOwnerGone(owner)) return;
      try {
        await docker.getContainer(info.Id).remove({ force: true });
        removed.push(info.Id);
        log.info("removed leaked container", {
          container: info.Id.slice(0, 12),
          run: info.Labels?.[LABELS.run],
          owner: info.Labels?.[LABELS.owner],
        });
      } catch (error) {
        // Another process may be reaping the same container at the same time.
        log.debug("could not remove leaked container", {
          container: info.Id.slice(0, 12),
          error: String(error),
        });
      }
    }),
  );
  return removed;
}
