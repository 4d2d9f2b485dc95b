// The system's own view of what a run's sandboxes hold, to check the backends' account against: launcher
// processes in /proc (by the marker every launcher carries), mounts in /proc/self/mountinfo, command control
// groups in the cgroup tree, state directories on disk and containers in Docker's list, each scoped to what
// one process or one run started (other people's sandboxes share the machine).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type Docker from "dockerode";
import { LABELS } from "../../src/sandbox/docker/ownership.js";
import { childGroups, detectCgroups } from "../../src/sandbox/local/cgroups.js";
import { markedProcesses } from "../../src/sandbox/local/launcher-marker.js";

export interface SystemView {
  /** Launchers (process-group leaders carrying the marker) and the namespace inits beside them. */
  launchers: number;
  markedProcesses: number;
  mounts: number;
  cgroups: number;
  stateDirectories: number;
}

/** Who started what: the owning processes (pids) and the runtime directory their sandboxes live in. */
export interface Scope {
  owners: readonly number[];
  runtimeDirectory: string;
}

export function systemView(scope: Scope): SystemView {
  const owners = new Set(scope.owners);
  const marked = markedProcesses((_tag, owner) => owners.has(owner));
  return {
    launchers: marked.filter((entry) => entry.pid === entry.pgid).length,
    markedProcesses: marked.length,
    mounts: mountsUnder(scope.runtimeDirectory).length,
    cgroups: commandCgroups(scope.owners).length,
    stateDirectories: stateDirectories(scope.runtimeDirectory).length,
  };
}

/** Mount points at or below `directory` in this mount namespace. */
export function mountsUnder(directory: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter(
      (point): point is string =>
        point !== undefined && (point === directory || point.startsWith(`${directory}/`)),
    );
}

/** Command control group directories (named p<owner pid>-…) of these owners, in every hierarchy. */
export function commandCgroups(owners: readonly number[]): string[] {
  const support = detectCgroups();
  if (!support) return [];
  const prefixes = owners.map((owner) => `p${owner}-`);
  return childGroups(support)
    .filter(({ name }) => prefixes.some((prefix) => name.startsWith(prefix)))
    .map(({ parent, name }) => join(parent, name));
}

/** Sandbox state directories under a local backend's runtime directory. */
export function stateDirectories(runtimeDirectory: string): string[] {
  const sandboxes = join(runtimeDirectory, "sandboxes");
  if (!existsSync(sandboxes)) return [];
  return readdirSync(sandboxes).map((name) => join(sandboxes, name));
}

/** Containers (running or not) labelled with this run, as Docker lists them. */
export async function runContainers(docker: Docker, runId: string): Promise<string[]> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.run}=${runId}`] },
  });
  return containers.map((container) => container.Id);
}
