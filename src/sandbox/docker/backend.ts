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
import type { SandboxUser } from "./archive.js";
import { dockerContainerAccess } from "./container-access.js";
import { createContainerGitRunner, TRACKING_GIT_DIR, TRACKING_INDEX } from "./container-git.js";
import { DockerSandbox } from "./docker-sandbox.js";
import {
  connectEngine,
  describe,
  type EngineConnection,
  inspectImage,
  pingEngine,
  removeContainerSync,
} from "./engine.js";
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

export { DEFAULT_LIMITS };

export const DEFAULT_USER: SandboxUser = { uid: 1000, gid: 1000 };

/** The Docker backend; `createDockerBackend` makes one. */
export class DockerBackend implements SandboxBackend {
  readonly kind = "docker" as const;
  private readonly docker: Docker;
  private readonly address: string;
  private readonly socketPath: string | undefined;
  private readonly runId: string;
  private readonly owner = formatOwner(currentOwner());
  private readonly ignores: readonly string[];
  private readonly user: SandboxUser;
  private readonly live = new LiveSandboxes<DockerSandbox>();
  private readonly ledger = new ResourceLedger();
  /** Releases of the containers this backend started and has not removed yet, by container id. */
  private readonly containers = new Map<string, () => void>();
  private readonly prepared = new Map<string, Promise<PreparedImage>>();
  private readonly pool: WarmPool<Docker.Container>;
  private closed = false;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: DockerBackendOptions = {}) {
    const { docker, address } = connectEngine(options);
    this.docker = docker;
    this.address = address;
    this.socketPath = address.startsWith("/") ? address : undefined;
    this.runId = options.runId ?? `run-${randomBytes(6).toString("hex")}`;
    this.ignores = options.ignores ?? DEFAULT_IGNORES;
    this.user = options.user ?? DEFAULT_USER;
    const socketPath = this.socketPath;
    this.pool = new WarmPool<Docker.Container>(options.warmContainers ?? 1, {
      remove: (container) => this.removeContainer(container),
      removeSync: (container) => {
        if (socketPath !== undefined) removeContainerSync(socketPath, container.id);
      },
    });
  }

  async create(spec: SandboxSpec): Promise<DockerSandbox> {
    if (this.closed)
      throw new InfrastructureError("backend-closed", "the Docker sandbox backend has been closed");
    const environment = spec.environment;
    if (environment.kind !== "image") {
      throw new InputError(
        "environment-unsupported",
        `the Docker backend runs image environments only, not directory ${environment.path}; open sandboxes with openSandboxes() to route directories to the local backend`,
      );
    }
    await this.ensureReady();
    const workdir = environment.workdir ?? this.options.workdir ?? DEFAULT_WORKDIR;
    const base = await this.preparedImage(environment.image, workdir);
    const limits = { ...DEFAULT_LIMITS, ...this.options.limits, ...spec.limits };
    const container = await this.containerFor(
      environment.image,
      containerConfiguration(base.image, workdir, limits),
      spec.label ?? "",
    );
    try {
      return await this.assemble(spec, { image: environment.image, workdir, tree: base.tree }, container);
    } catch (error) {
      await this.removeContainer(container).catch(() => undefined);
      if (error instanceof InputError || error instanceof InfrastructureError) throw error;
      throw new InfrastructureError(
        "sandbox-create-failed",
        `cannot start a sandbox from ${environment.image}: ${describe(error)}`,
        { cause: error, data: { image: environment.image } },
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.drain();
    await this.live.destroyAll();
  }

  resources(): SandboxResources {
    return { ...this.ledger.snapshot(), sandboxes: this.live.size };
  }

  /** Removes a container this backend started (killing what runs in it); gone already counts as removed. */
  private async removeContainer(container: Docker.Container): Promise<void> {
    try {
      await container.remove({ force: true, v: true });
    } catch (error) {
      const code = (error as { statusCode?: number }).statusCode;
      // 404: already gone; 409: removal already in progress (by the engine, which finishes it).
      if (code !== 404 && code !== 409) throw error;
    }
    this.containers.get(container.id)?.();
    this.containers.delete(container.id);
  }

  /** A started container for the sandbox: a warm spare when one is ready, and a new spare made behind it. */
  private async containerFor(
    image: string,
    configuration: ContainerConfiguration,
    label: string,
  ): Promise<Docker.Container> {
    const key = JSON.stringify(configuration);
    let container: Docker.Container;
    const spare = this.pool.take(key);
    try {
      container = (await spare?.catch(() => undefined)) ?? (await this.startContainer(configuration, label));
    } catch (error) {
      throw new InfrastructureError(
        "sandbox-create-failed",
        `cannot start a container from ${image}: ${describe(error)}`,
        { cause: error, data: { image } },
      );
    }
    if (!this.closed) this.pool.fill(key, () => this.startContainer(configuration, "warm spare"));
    return container;
  }

  /** Change tracking and starting patches inside the container, then the sandbox itself. */
  private async assemble(
    spec: SandboxSpec,
    environment: { image: string; workdir: string; tree: string },
    container: Docker.Container,
  ): Promise<DockerSandbox> {
    const { image, workdir } = environment;
    const id = container.id.slice(0, 12);
    const tracker = new ChangeTracker(createContainerGitRunner(dockerContainerAccess(container), this.user), {
      gitDir: TRACKING_GIT_DIR,
      workTree: workdir,
    });
    const patched = await applyStartingPatches(tracker, TRACKING_INDEX, spec.patches ?? [], image);
    const sandbox = this.live.adopt(
      (onDestroyed) =>
        new DockerSandbox({
          id: `docker-${id}`,
          spec,
          workdir,
          container,
          user: this.user,
          socketPath: this.socketPath,
          tracker,
          indexFile: TRACKING_INDEX,
          startTree: patched ?? environment.tree,
          defaultTimeoutMs: this.options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
          maxOutputBytes: this.options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
          ledger: this.ledger,
          removeContainer: () => this.removeContainer(container),
          onDestroyed,
        }),
    );
    log.debug("sandbox created", { id, image, label: spec.label, run: this.runId });
    return sandbox;
  }

  /** Once per backend: the engine answers, leaked containers of dead runs are gone, stale images pruned. */
  private ensureReady(): Promise<void> {
    this.ready ??= (async () => {
      await pingEngine(this.docker, this.address);
      if (this.options.reap ?? true) {
        const removed = await reapLeakedContainers(this.docker);
        if (removed.length > 0) log.info(`removed ${removed.length} leaked container(s) of finished runs`);
      }
      // Disk housekeeping only: nothing waits for it.
      void pruneStalePreparedImages(this.docker).catch((error: unknown) =>
        log.debug("could not prune prepared images", { error: describe(error) }),
      );
    })();
    this.ready.catch(() => {
      this.ready = undefined;
    });
    return this.ready;
  }

  /** Creates and starts one labelled container; removed again when it cannot start. */
  private async startContainer(
    configuration: ContainerConfiguration,
    label: string,
  ): Promise<Docker.Container> {
    const container = await this.docker.createContainer({
      ...configuration,
      name: `swe-selfplay-${randomBytes(6).toString("hex")}`,
      Labels: { [LABELS.run]: this.runId, [LABELS.owner]: this.owner, [LABELS.label]: label },
    });
    this.containers.set(container.id, this.ledger.hold("containers"));
    try {
      await container.start();
    } catch (error) {
      await this.removeContainer(container).catch(() => undefined);
      throw error;
    }
    return container;
  }

  private async preparedImage(image: string, workdir: string): Promise<PreparedImage> {
    const info = await inspectImage(this.docker, image);
    const key = `${info.Id}\n${workdir}`;
    let preparation = this.prepared.get(key);
    if (!preparation) {
      preparation = prepareImage(this.docker, info, image, workdir, this.ignores, this.user);
      this.prepared.set(key, preparation);
      preparation.catch(() => this.prepared.delete(key));
    }
    return preparation;
  }
}

export function createDockerBackend(options: DockerBackendOptions = {}): DockerBackend {
  return new DockerBackend(options);
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
