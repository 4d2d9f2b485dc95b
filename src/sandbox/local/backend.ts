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
  type SandboxSpec,
} from "../../ports/sandbox.js";
import { ChangeTracker, DEFAULT_IGNORES } from "../change-tracking.js";
import { track } from "../registry.js";
import { ensureEtcView, locateBubblewrap } from "./bubblewrap.js";
import { type CgroupSupport, detectCgroups, removeStaleCgroups } from "./cgroups.js";
import { type EnvironmentBase, prepareEnvironmentBase, removeOrphanedBases } from "./environment-base.js";
import { createHostGitRunner } from "./host-git.js";
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
import { createWorkspace, removeStateDirectory, type WorkspaceStrategy } from "./workspace.js";

const log = createLogger("sandbox.local");

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

export const DEFAULT_LIMITS: Required<Pick<ResourceLimits, "pids" | "memoryBytes">> = {
  pids: 1024,
  memoryBytes: 4 * 1024 ** 3,
};

export interface LocalBackend extends SandboxBackend {
  readonly kind: "local";
  create(spec: SandboxSpec): Promise<LocalSandbox>;
}

export function createLocalBackend(options: LocalBackendOptions = {}): LocalBackend {
  const runtimeDirectory = options.runtimeDirectory ?? defaultRuntimeDirectory();
  const runner = createHostGitRunner();
  const ignores = options.ignores ?? DEFAULT_IGNORES;
  const live = new Set<LocalSandbox>();
  const bases = new Map<string, Promise<EnvironmentBase>>();
  let closed = false;
  let setup: Promise<{ bubblewrap: string; cgroups: CgroupSupport | null; etc: string }> | undefined;

  const prepare = () => {
    setup ??= (async () => {
      const bubblewrap = locateBubblewrap();
      ensurePrivateDirectory(runtimeDirectory);
      await removeStaleSandboxes(runtimeDirectory);
      await removeOrphanedBases(runtimeDirectory);
      const etc = ensureEtcView(join(runtimeDirectory, "system"));
      removeStaleSystemViews(join(runtimeDirectory, "system"), etc);
      const cgroups = detectCgroups();
      if (cgroups) {
        // bwrap's die-with-parent alone does not always take the sandbox down when we are SIGKILLed; the
        // helper outlives us just long enough to kill what is left in our groups.
        const watching = await mountRequest({
          op: "watch",
          parents: Object.values(cgroups.parents),
          prefix: `p${process.pid}-`,
        });
        if (!watching?.ok)
          log.debug("no helper watches our control groups; an abrupt exit may leave processes");
        removeStaleCgroups(cgroups, (name) => {
          const pid = name.match(/^p(\d+)-/)?.[1];
          return pid !== undefined && isOwnerAlive(`${pid} 0`);
        });
      }
      log.debug("local backend ready", { runtimeDirectory, cgroups: cgroups?.version ?? "none" });
      return { bubblewrap, cgroups, etc };
    })();
    setup.catch(() => {
      setup = undefined;
    });
    return setup;
  };

  const baseOf = (source: string) => {
    let base = bases.get(source);
    if (!base) {
      base = prepareEnvironmentBase(runtimeDirectory, source, runner, ignores);
      bases.set(source, base);
      base.catch(() => bases.delete(source));
    }
    return base;
  };

  return {
    kind: "local",
    async create(spec: SandboxSpec): Promise<LocalSandbox> {
      if (closed)
        throw new InfrastructureError("backend-closed", "the local sandbox backend has been closed");
      const { bubblewrap, cgroups, etc } = await prepare();
      const environment = spec.environment;
      if (environment.kind !== "dir") {
        throw new InputError(
          "environment-unsupported",
          `the local backend runs directory environments only, not image ${environment.image}; open sandboxes with openSandboxes() to route images to Docker`,
        );
      }
      const source = await realDirectory(environment.path);
      const base = await baseOf(source);
      const id = `local-${randomBytes(5).toString("hex")}`;
      const stateDirectory = join(runtimeDirectory, "sandboxes", id);
      await mkdir(stateDirectory, { mode: 0o700 });
      writeOwner(stateDirectory);
      try {
        const temporary = join(stateDirectory, "tmp");
        await mkdir(temporary, { mode: 0o1777 });
        const workspace = await createWorkspace(source, stateDirectory, options.workspace ?? "auto");
        const workspaceReal = await realpath(workspace.path);
        const tracker = new ChangeTracker(runner, { gitDir: base.gitDir, workTree: workspaceReal });
        const indexFile = join(stateDirectory, "index");
        await runner.copyFile(base.indexFile, indexFile);
        let startTree = base.tree;
        const patches = spec.patches ?? [];
        for (const [position, patch] of patches.entries()) {
          const applied = await tracker.apply(patch, indexFile);
          if (applied.status === "rejected") {
            throw new InputError(
              "patch-rejected",
              `patch ${position + 1} of ${patches.length} does not apply to ${source}: ${applied.message}`,
              { data: { patchIndex: position, file: applied.file, hunk: applied.hunk } },
            );
          }
        }
        if (patches.length > 0) startTree = await tracker.stage(indexFile);
        let untrack = () => {};
        const sandbox = new LocalSandbox({
          id,
          spec,
          workdir: options.workdir ?? DEFAULT_WORKDIR,
          bubblewrap,
          etc,
          stateDirectory,
          workspace,
          workspaceReal,
          temporary: await realpath(temporary),
          tracker,
          indexFile,
          startTree,
          cgroups,
          limits: { ...DEFAULT_LIMITS, ...options.limits, ...spec.limits },
          defaultTimeoutMs: options.defaultTimeoutMs ?? 30 * 60_000,
          maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
          readOnlyPaths: options.readOnlyPaths ?? [],
          onDestroyed: () => {
            live.delete(sandbox);
            untrack();
          },
        });
        live.add(sandbox);
        untrack = track(sandbox);
        log.debug("sandbox created", { id, label: spec.label, workspace: workspace.strategy });
        return sandbox;
      } catch (error) {
        await removeStateDirectory(stateDirectory).catch(() => undefined);
        throw error;
      }
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...live].map((sandbox) => sandbox.destroy()));
    },
  };
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
