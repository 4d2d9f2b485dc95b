// The sandbox router: one backend for callers, routing each environment to the backend that runs it
// (directories → local bubblewrap, images → Docker, loaded on first use so Docker stays optional).

import { InfrastructureError } from "../errors.js";
import type { Sandbox, SandboxBackend, SandboxSpec } from "../ports/sandbox.js";
import type { DockerBackendOptions } from "./docker/backend.js";
import { createLocalBackend, type LocalBackendOptions } from "./local/backend.js";

export interface OpenSandboxesOptions {
  /** Run that owns the sandboxes (labels Docker containers so leaked ones can be reaped). */
  runId?: string;
  local?: LocalBackendOptions;
  docker?: DockerBackendOptions;
}

export interface SandboxRouter extends SandboxBackend {
  /** The backend that serves environments of this kind, created on first use. */
  backendFor(kind: "dir" | "image"): Promise<SandboxBackend>;
}

export function openSandboxes(options: OpenSandboxesOptions = {}): SandboxRouter {
  let local: SandboxBackend | undefined;
  let docker: Promise<SandboxBackend> | undefined;
  let closed = false;

  const backendFor = async (kind: "dir" | "image"): Promise<SandboxBackend> => {
    if (closed) throw new InfrastructureError("backend-closed", "the sandboxes have been closed");
    if (kind === "dir") {
      local ??= createLocalBackend(options.local);
      return local;
    }
    docker ??= import("./docker/backend.js").then(
      (module) => module.createDockerBackend({ runId: options.runId, ...options.docker }),
      (error: unknown) => {
        docker = undefined;
        throw new InfrastructureError(
          "docker-backend-unavailable",
          `cannot load the Docker backend: ${String(error)}`,
          {
            cause: error,
          },
        );
      },
    );
    return docker;
  };

  return {
    // Reported as "local" because that is the backend every directory environment gets; use backendFor
    // to reach a specific one.
    kind: "local",
    backendFor,
    async create(spec: SandboxSpec): Promise<Sandbox> {
      const backend = await backendFor(spec.environment.kind);
      return backend.create(spec);
    },
    async close(): Promise<void> {
      closed = true;
      const backends: SandboxBackend[] = [];
      if (local) backends.push(local);
      const dockerBackend = await docker?.catch(() => undefined);
      if (dockerBackend) backends.push(dockerBackend);
      await Promise.allSettled(backends.map((backend) => backend.close()));
    },
  };
}

export { viewOf } from "../ports/sandbox.js";
export { WORKSPACE_STRATEGIES, type WorkspaceStrategy } from "./local/workspace.js";
export type { Destroyable } from "./registry.js";
export { destroyAll, liveSandboxes, track } from "./registry.js";
export type { DockerBackendOptions, LocalBackendOptions };
export { createLocalBackend };
