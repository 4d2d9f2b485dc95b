// The Docker sandbox backend: one container per sandbox from an image environment, no network, resource
// limits, ownership labels and a reaper for containers of dead runs. Talks to the engine API only.

import { randomBytes } from "node:crypto";
import type Docker from "dockerode";
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
import type { SandboxUser } from "./archive.js";
import { createContainerGitRunner, TRACKING_GIT_DIR, TRACKING_INDEX } from "./container-git.js";
import { DockerSandbox } from "./docker-sandbox.js";
import { connectEngine, describe, type EngineConnection, inspectImage, pingEngine } from "./engine.js";
import { currentOwner, formatOwner, LABELS, reapLeakedContainers } from "./ownership.js";
import { type PreparedImage, prepareImage, pruneStalePreparedImages } from "./prepared-image.js";
import { WarmPool } from "./warm-pool.js";

const log = createLogger("sandbox.docker");

export interface DockerBackendOptions extends EngineConnection {
  /** Run that owns the containers (label swe-selfplay.run). Default: a fresh id per backend. */
  runId?: string;
  /** Where the repository is when the environment names no workdir. Default /testbed. */
  workdir?: string;
  /** Timeout of a command that sets none. Default 30 minutes. */
  defaultTimeoutMs?: number;
  /** Cap per output stream of a command that sets none. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Limits of sandboxes whose spec sets none. Default 1024 processes, 4 GiB memory, no CPU cap. */
  limits?: ResourceLimits;
  /** Paths left out of diffs, on top of the repository's .gitignore files. Default: Python caches. */
  ignores?: readonly string[];
  /**
   * Who commands, git and written files run as / belong to. Default uid 1000, gid 1000: unprivileged, so
   * nothing outside the repository and /tmp is writable. The repository is handed to this user once per image.
   */
  user?: SandboxUser;
  /**
   * Containers kept started ahead of demand, one per recently used image and limits, so that create() need
   * not wait for a container to start. Default 1; 0 disables.
   */
  warmContainers?: number;
  /** Remove containers whose owning process is gone when the backend starts. Default true. */
  reap?: boolean;
}

export const DEFAULT_LIMITS: Required<Pick<ResourceLimits, "pids" | "memoryBytes">> = {
  pids: 1024,
  memoryBytes: 4 * 1024 ** 3,
};

export const DEFAULT_USER: SandboxUser = { uid: 1000, gid: 1000 };

export interface DockerBackend extends SandboxBackend {
  readonly kind: "docker";
  create(spec: SandboxSpec): Promise<DockerSandbox>;
}

export function createDockerBackend(options: DockerBackendOptions = {}): DockerBackend {
  const { docker, address } = connectEngine(options);
  const socketPath = address.startsWith("/") ? address : undefined;
  const runId = options.runId ?? `run-${randomBytes(6).toString("hex")}`;
  const owner = formatOwner(currentOwner());
  const ignores = options.ignores ?? DEFAULT_IGNORES;
  const user = options.user ?? DEFAULT_USER;
  const live = new Set<DockerSandbox>();
  const prepared = new Map<string, Promise<PreparedImage>>();
  let closed = false;
  let ready: Promise<void> | undefined;

  const ensureReady = () => {
    ready ??= (async () => {
      await pingEngine(docker, address);
      if (options.reap ?? true) {
        const removed = await reapLeakedContainers(docker);
        if (removed.length > 0) log.info(`removed ${removed.length} leaked container(s) of finished runs`);
      }
      // Disk housekeeping only: nothing waits for it.
      void pruneStalePreparedImages(docker).catch((error: unknown) =>
        log.debug("could not prune prepared images", { error: describe(error) }),
      );
    })();
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };

  const pool = new WarmPool(options.warmContainers ?? 1, socketPath);

  /** Creates and starts one labelled container; removed again when it cannot start. */
  const startContainer = async (
    configuration: ContainerConfiguration,
    label: string,
  ): Promise<Docker.Container> => {
    const container = await docker.createContainer({
      ...configuration,
      name: `swe-selfplay-${randomBytes(6).toString("hex")}`,
      Labels: { [LABELS.run]: runId, [LABELS.owner]: owner, [LABELS.label]: label },
    });
    try {
      await container.start();
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      throw error;
    }
    return container;
  };

  const preparedImage = async (image: string, workdir: string): Promise<PreparedImage> => {
    const info = await inspectImage(docker, image);
    const key = `${info.Id}\n${workdir}`;
    let preparation = prepared.get(key);
    if (!preparation) {
      preparation = prepareImage(docker, info, image, workdir, ignores, user);
      prepared.set(key, preparation);
      preparation.catch(() => prepared.delete(key));
    }
    return preparation;
  };

  return {
    kind: "docker",
    async create(spec: SandboxSpec): Promise<DockerSandbox> {
      if (closed)
        throw new InfrastructureError("backend-closed", "the Docker sandbox backend has been closed");
      const environment = spec.environment;
      if (environment.kind !== "image") {
        throw new InputError(
          "environment-unsupported",
          `the Docker backend runs image environments only, not directory ${environment.path}; open sandboxes with openSandboxes() to route directories to the local backend`,
        );
      }
      await ensureReady();
      const workdir = environment.workdir ?? options.workdir ?? DEFAULT_WORKDIR;
      const base = await preparedImage(environment.image, workdir);
      const limits = { ...DEFAULT_LIMITS, ...options.limits, ...spec.limits };
      const configuration = containerConfiguration(base.image, workdir, limits);
      const key = JSON.stringify(configuration);
      const start = () => startContainer(configuration, spec.label ?? "");
      let container: Docker.Container;
      const spare = pool.take(key);
      try {
        container = (await spare?.catch(() => undefined)) ?? (await start());
      } catch (error) {
        throw new InfrastructureError(
          "sandbox-create-failed",
          `cannot start a container from ${environment.image}: ${describe(error)}`,
          { cause: error, data: { image: environment.image } },
        );
      }
      if (!closed) pool.fill(key, () => startContainer(configuration, "warm spare"));
      const id = container.id.slice(0, 12);
      let untrack = () => {};
      try {
        const tracker = new ChangeTracker(createContainerGitRunner(container, user), {
          gitDir: TRACKING_GIT_DIR,
          workTree: workdir,
        });
        const patches = spec.patches ?? [];
        for (const [position, patch] of patches.entries()) {
          const applied = await tracker.apply(patch, TRACKING_INDEX);
          if (applied.status === "rejected") {
            throw new InputError(
              "patch-rejected",
              `patch ${position + 1} of ${patches.length} does not apply to ${environment.image}: ${applied.message}`,
              { data: { patchIndex: position, file: applied.file, hunk: applied.hunk } },
            );
          }
        }
        const startTree = patches.length > 0 ? await tracker.stage(TRACKING_INDEX) : base.tree;
        const sandbox = new DockerSandbox({
          id: `docker-${id}`,
          spec,
          workdir,
          container,
          user,
          socketPath,
          tracker,
          indexFile: TRACKING_INDEX,
          startTree,
          defaultTimeoutMs: options.defaultTimeoutMs ?? 30 * 60_000,
          maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
          onDestroyed: () => {
            live.delete(sandbox);
            untrack();
          },
        });
        live.add(sandbox);
        untrack = track(sandbox);
        log.debug("sandbox created", { id, image: environment.image, label: spec.label, run: runId });
        return sandbox;
      } catch (error) {
        await container.remove({ force: true }).catch(() => undefined);
        if (error instanceof InputError || error instanceof InfrastructureError) throw error;
        throw new InfrastructureError(
          "sandbox-create-failed",
          `cannot start a sandbox from ${environment.image}: ${describe(error)}`,
          { cause: error, data: { image: environment.image } },
        );
      }
    },
    async close(): Promise<void> {
      closed = true;
      await pool.drain();
      await Promise.allSettled([...live].map((sandbox) => sandbox.destroy()));
    },
  };
}

export type { DockerSandbox } from "./docker-sandbox.js";

type ContainerConfiguration = Docker.ContainerCreateOptions;

/** Everything about a sandbox's container that does not depend on the sandbox (so spares can be made ahead). */
function containerConfiguration(
  image: string,
  workdir: string,
  limits: ResourceLimits,
): ContainerConfiguration {
  return {
    Image: image,
    Entrypoint: [],
    // The idle command keeps the container up; Init reaps orphans of killed commands.
    Cmd: ["sleep", "infinity"],
    WorkingDir: workdir,
    NetworkDisabled: true,
    HostConfig: {
      Init: true,
      NetworkMode: "none",
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      PidsLimit: limits.pids,
      NanoCpus: limits.cpus === undefined ? undefined : Math.round(limits.cpus * 1e9),
      SecurityOpt: ["no-new-privileges"],
    },
  };
}

export { reapLeakedContainers } from "./ownership.js";
export type { Sandbox };
