// The local sandbox backend: bubblewrap sandboxes over directory environments, with per-command cgroups
// and fast workspaces (overlay when root, reflink/copy otherwise). Never runs anything unsandboxed.

import { randomBytes } from "node:crypto";
import { mkdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { InfrastructureError, InputError } from "../../errors.js";
import { createLogger } from "../../log.js";
import {
  DEFAULT_WORKDIR,
  type ResourceLimits,
  type Sandbox,
  type SandboxBackend,
  type SandboxResources,
  type SandboxSpec,
} from "../../ports/sandbox.js";
import {
  applyStartingPatches,
  DEFAULT_LIMITS,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  LiveSandboxes,
} from "../backend-support.js";
import { ChangeTracker, DEFAULT_IGNORES } from "../change-tracking.js";
import { ResourceLedger } from "../resource-ledger.js";
import { ensureEtcView, locateBubblewrap } from "./bubblewrap.js";
import { type CgroupSupport, detectCgroups, removeStaleCgroups } from "./cgroups.js";
import { type EnvironmentBase, prepareEnvironmentBase, removeOrphanedBases } from "./environment-base.js";
import { GoBuildCaches, type GoCacheWarming } from "./go-build-cache.js";
import { createHostGitRunner } from "./host-git.js";
import { sweepOrphanedLaunchers } from "./launcher-marker.js";
import { LocalSandbox } from "./local-sandbox.js";
import { mountRequest } from "./mount-helper.js";
import {
  defaultRuntimeDirectory,
  ensurePrivateDirectory,
  isOwnerAlive,
  removeStaleSandboxes,
  removeStaleSystemViews,
  writeOwner,
} from "./runtime-directory.js";
import { createWorkspace, NESTED_STATES, removeStateDirectory, type WorkspaceStrategy } from "./workspace.js";

const log = createLogger("sandbox.local");

let sweptOrphans = false;

export interface LocalBackendOptions {
  /** How a sandbox gets its private copy of the environment. Default "auto" (overlay when root, else reflink/copy). */
  workspace?: WorkspaceStrategy;
  /** Where workspaces, indexes and caches live. Default $XDG_RUNTIME_DIR/swe-selfplay or <tmp>/swe-selfplay-<uid>. */
  runtimeDirectory?: string;
  /** Where the repository appears inside the sandbox. Default /testbed. */
  workdir?: string;
  /** Timeout of a command that sets none. Default 30 minutes. */
  defaultTimeoutMs?: number;
  /** Cap per output stream of a command that sets none. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Limits of sandboxes whose spec sets none. Default 1024 processes, 4 GiB memory. */
  limits?: ResourceLimits;
  /** Extra host paths shown read-only at the same place (e.g. a toolchain under /opt). */
  readOnlyPaths?: readonly string[];
  /** Paths left out of diffs, on top of the repository's .gitignore files. Default: Python caches. */
  ignores?: readonly string[];
}

export { DEFAULT_LIMITS };

interface HostSetup {
  bubblewrap: string;
  cgroups: CgroupSupport | null;
  etc: string;
}

/** Where a new sandbox comes from and lives. */
interface Place {
  id: string;
  source: string;
  base: EnvironmentBase;
  host: HostSetup;
  stateDirectory: string;
  /** The environment's warmed Go build cache (shared: the sandbox gets its own view) or one to warm. */
  goCache: { path: string; shared: boolean } | null;
  /** Releases of what the state directory holds (itself, its mounts), called once it is removed. */
  holdings: (() => void)[];
}

/** A sandbox's own copy-on-write view of a shared Go build cache, beside its workspace. */
async function goCacheView(shared: string, stateDirectory: string, strategy: WorkspaceStrategy) {
  const directory = join(stateDirectory, NESTED_STATES[0]);
  await mkdir(directory, { mode: 0o700 });
  return createWorkspace(shared, directory, strategy);
}

/** The local backend; `createLocalBackend` makes one. */
export class LocalBackend implements SandboxBackend {
  readonly kind = "local" as const;
  private readonly runtimeDirectory: string;
  private readonly runner = createHostGitRunner();
  private readonly ignores: readonly string[];
  private readonly live = new LiveSandboxes<LocalSandbox>();
  private readonly ledger = new ResourceLedger();
  private readonly bases = new Map<string, Promise<EnvironmentBase>>();
  private readonly goCaches: GoBuildCaches;
  private closed = false;
  private setup: Promise<HostSetup> | undefined;

  constructor(private readonly options: LocalBackendOptions = {}) {
    this.runtimeDirectory = options.runtimeDirectory ?? defaultRuntimeDirectory();
    this.ignores = options.ignores ?? DEFAULT_IGNORES;
    this.goCaches = new GoBuildCaches(join(this.runtimeDirectory, "go-caches"));
  }

  async create(spec: SandboxSpec): Promise<LocalSandbox> {
    if (this.closed)
      throw new InfrastructureError("backend-closed", "the local sandbox backend has been closed");
    const host = await this.prepare();
    const environment = spec.environment;
    if (environment.kind !== "dir") {
      throw new InputError(
        "environment-unsupported",
        `the local backend runs directory environments only, not image ${environment.image}; open sandboxes with openSandboxes() to route images to Docker`,
      );
    }
    const source = await realDirectory(environment.path);
    const base = await this.baseOf(source);
    const goCache = await this.goCaches.cacheFor(source, base.tree, (directory, command, timeoutMs) =>
      this.warmGoCache(spec, { source, base, host }, directory, { command, timeoutMs }),
    );
    return this.createIn(spec, {
      source,
      base,
      host,
      goCache: goCache === null ? null : { path: goCache, shared: true },
    });
  }

  private async createIn(
    spec: SandboxSpec,
    place: Omit<Place, "id" | "stateDirectory" | "holdings">,
  ): Promise<LocalSandbox> {
    const id = `local-${randomBytes(5).toString("hex")}`;
    const stateDirectory = join(this.runtimeDirectory, "sandboxes", id);
    await mkdir(stateDirectory, { mode: 0o700 });
    const holdings = [this.ledger.hold("temporaryDirectories")];
    writeOwner(stateDirectory);
    try {
      return await this.assemble(spec, { ...place, id, stateDirectory, holdings });
    } catch (error) {
      const removed = await removeStateDirectory(stateDirectory).then(
        () => true,
        () => false,
      );
      if (removed) for (const release of holdings) release();
      throw error;
    }
  }

  /** Runs the Go cache's warming command in a sandbox of the environment that writes `directory` directly. */
  private async warmGoCache(
    spec: SandboxSpec,
    place: Omit<Place, "id" | "stateDirectory" | "goCache" | "holdings">,
    directory: string,
    run: { command: string; timeoutMs: number },
  ): Promise<GoCacheWarming> {
    const label = `${spec.label ?? "sandbox"}:go-cache-warm`;
    const sandbox = await this.createIn(
      { ...spec, label, patches: [] },
      { ...place, goCache: { path: directory, shared: false } },
    );
    try {
      const result = await sandbox.run({ command: run.command, timeoutMs: run.timeoutMs });
      const warmed = result.status === "exited" && result.exitCode === 0;
      return {
        status: warmed ? "warmed" : "failed",
        detail: `${result.status}: ${(result.stderr || result.stdout).trim().slice(-500)}`,
      };
    } finally {
      await sandbox.destroy();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.live.destroyAll();
  }

  resources(): SandboxResources {
    return { ...this.ledger.snapshot(), sandboxes: this.live.size };
  }

  /** The workspace, tracking index and starting state of a new sandbox in its state directory. */
  private async assemble(spec: SandboxSpec, place: Place): Promise<LocalSandbox> {
    const { id, source, base, host, stateDirectory, holdings } = place;
    const options = this.options;
    const temporary = join(stateDirectory, "tmp");
    await mkdir(temporary, { mode: 0o1777 });
    const workspace = await createWorkspace(source, stateDirectory, options.workspace ?? "auto");
    if (workspace.strategy === "overlay") holdings.push(this.ledger.hold("mounts"));
    let goCache = place.goCache?.path ?? null;
    if (place.goCache?.shared) {
      const view = await goCacheView(place.goCache.path, stateDirectory, options.workspace ?? "auto");
      if (view.strategy === "overlay") holdings.push(this.ledger.hold("mounts"));
      goCache = view.path;
    }
    const workspaceReal = await realpath(workspace.path);
    const tracker = new ChangeTracker(this.runner, { gitDir: base.gitDir, workTree: workspaceReal });
    const indexFile = join(stateDirectory, "index");
    await this.runner.copyFile(base.indexFile, indexFile);
    const patched = await applyStartingPatches(tracker, indexFile, spec.patches ?? [], source);
    const temporaryReal = await realpath(temporary);
    log.debug("sandbox created", { id, label: spec.label, workspace: workspace.strategy });
    return this.live.adopt(
      (onDestroyed) =>
        new LocalSandbox({
          id,
          spec,
          workdir: options.workdir ?? DEFAULT_WORKDIR,
          ...host,
          stateDirectory,
          workspace,
          workspaceReal,
          temporary: temporaryReal,
          tracker,
          indexFile,
          startTree: patched ?? base.tree,
          limits: { ...DEFAULT_LIMITS, ...options.limits, ...spec.limits },
          defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
          maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
          readOnlyPaths: options.readOnlyPaths ?? [],
          goCache,
          ledger: this.ledger,
          holdings,
          onDestroyed,
        }),
    );
  }

  /** Once per backend: bwrap located, stale state of dead processes removed, /etc view and cgroups ready. */
  private prepare(): Promise<HostSetup> {
    this.setup ??= this.setUpHost();
    this.setup.catch(() => {
      this.setup = undefined;
    });
    return this.setup;
  }

  private async setUpHost(): Promise<HostSetup> {
    const runtimeDirectory = this.runtimeDirectory;
    const bubblewrap = locateBubblewrap();
    ensurePrivateDirectory(runtimeDirectory);
    await removeStaleSandboxes(runtimeDirectory);
    await removeOrphanedBases(runtimeDirectory);
    const etc = ensureEtcView(join(runtimeDirectory, "system"));
    removeStaleSystemViews(join(runtimeDirectory, "system"), etc);
    const cgroups = detectCgroups();
    if (cgroups) await watchControlGroups(cgroups);
    if (!sweptOrphans) {
      // Once per process: launchers left by a process that died abruptly (what its exit hook never saw).
      sweptOrphans = true;
      const orphans = sweepOrphanedLaunchers((pid) => isOwnerAlive(`${pid} 0`));
      if (orphans.length > 0)
        log.info("killed sandbox launchers left by processes that are gone", {
          pids: orphans.map((orphan) => orphan.pid).join(","),
        });
    }
    log.debug("local backend ready", { runtimeDirectory, cgroups: cgroups?.version ?? "none" });
    return { bubblewrap, cgroups, etc };
  }

  private baseOf(source: string): Promise<EnvironmentBase> {
    let base = this.bases.get(source);
    if (!base) {
      base = prepareEnvironmentBase(this.runtimeDirectory, source, this.runner, this.ignores);
      this.bases.set(source, base);
      base.catch(() => this.bases.delete(source));
    }
    return base;
  }
}

export function createLocalBackend(options: LocalBackendOptions = {}): LocalBackend {
  return new LocalBackend(options);
}

/**
 * bwrap's die-with-parent alone does not always take the sandbox down when we are SIGKILLed (a namespace
 * init still in its set-up neither dies with its launcher nor is in a control group yet); the helper outlives
 * us just long enough to kill what is left in our groups and our launchers' process groups. Groups of dead
 * processes are removed.
 */
async function watchControlGroups(cgroups: CgroupSupport): Promise<void> {
  const watching = await mountRequest({
    op: "watch",
    parents: Object.values(cgroups.parents),
    prefix: `p${process.pid}-`,
    owner: process.pid,
  });
  if (watching?.status !== "done")
    log.debug("no helper watches our control groups; an abrupt exit may leave processes");
  removeStaleCgroups(cgroups, (name) => {
    const pid = name.match(/^p(\d+)-/)?.[1];
    return pid !== undefined && isOwnerAlive(`${pid} 0`);
  });
}

async function realDirectory(path: string): Promise<string> {
  try {
    const real = await realpath(path);
    if ((await stat(real)).isDirectory()) return real;
  } catch (error) {
    throw new InputError("environment-missing", `environment directory ${path} does not exist`, {
      data: { path },
      cause: error,
    });
  }
  throw new InputError("environment-not-directory", `environment ${path} is not a directory`, {
    data: { path },
  });
}

/** The sandbox type this backend creates (exported for callers that need workspace paths, e.g. benchmarks). */
export type { LocalSandbox } from "./local-sandbox.js";
export type { Sandbox };
