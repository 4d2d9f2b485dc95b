// The connection to the Docker engine, and the clear errors for when it or an image is not there.

import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import type Docker from "dockerode";
import { InfrastructureError } from "../../errors.js";
import { statusCodeOf } from "./archive.js";

export interface EngineConnection {
  /** Unix socket of the engine. Default: DOCKER_HOST when it is a unix:// address, else /var/run/docker.sock. */
  socketPath?: string;
}

/** dockerode and its dependency tree load on the first connection, not with every command that imports this. */
function dockerClass(): typeof Docker {
  return createRequire(import.meta.url)("dockerode") as typeof Docker;
}

export function connectEngine(connection: EngineConnection = {}): { docker: Docker; address: string } {
  const DockerClient = dockerClass();
  if (connection.socketPath !== undefined) {
    return {
      docker: new DockerClient({ socketPath: connection.socketPath }),
      address: connection.socketPath,
    };
  }
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith("unix://")) {
    const socketPath = host.slice("unix://".length);
    return { docker: new DockerClient({ socketPath }), address: socketPath };
  }
  if (host) return { docker: new DockerClient(), address: host };
  return {
    docker: new DockerClient({ socketPath: "/var/run/docker.sock" }),
    address: "/var/run/docker.sock",
  };
}

/** Throws an InfrastructureError saying how to start an engine when none answers at `address`. */
export async function pingEngine(docker: Docker, address: string): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    throw new InfrastructureError(
      "docker-unreachable",
      `no Docker engine answers at ${address} (${describe(error)}). Start one (as root: 'dockerd > /var/log/dockerd.log 2>&1 &', or 'systemctl start docker'), or point DOCKER_HOST at a running engine; 'bash scripts/setup.sh' does both install and start.`,
      { cause: error, data: { address } },
    );
  }
}

/** Inspects an image, throwing an InfrastructureError that says how to build it when it is absent. */
export async function inspectImage(docker: Docker, image: string): Promise<Docker.ImageInspectInfo> {
  try {
    return await docker.getImage(image).inspect();
  } catch (error) {
    if (statusCodeOf(error) === 404) {
      throw new InfrastructureError(
        "docker-image-missing",
        `image ${image} is not present in the Docker engine. ${buildHint(image)}`,
        {
          cause: error,
          data: { image },
        },
      );
    }
    throw new InfrastructureError("docker-unreachable", `cannot inspect image ${image}: ${describe(error)}`, {
      cause: error,
      data: { image },
    });
  }
}

function buildHint(image: string): string {
  if (image.startsWith("swe-selfplay/base")) return "Build it with 'swe-selfplay images build-base'.";
  if (image.startsWith("swe-selfplay/toolz")) return "Build it with 'swe-selfplay images build-toolz'.";
  return "Build it (for example from the base image made by 'swe-selfplay images build-base') or load it with 'docker load'.";
}

export function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Removes a container synchronously (for process exit hooks, where nothing asynchronous runs): the Engine API
 * call DELETE /containers/ID?force=1 made by a short child process.
 */
export function removeContainerSync(socketPath: string, containerId: string): void {
  spawnSync(
    process.execPath,
    ["--input-type=module", "-e", REMOVE_CONTAINER_SCRIPT, socketPath, containerId],
    {
      stdio: "ignore",
      timeout: 10_000,
    },
  );
}

const REMOVE_CONTAINER_SCRIPT = `
import { request } from "node:http";
const [socketPath, id] = process.argv.slice(-2);
const call = request({ socketPath, method: "DELETE", path: "/containers/" + id + "?force=1&v=1" }, (response) => {
  response.resume();
  response.on("end", () => process.exit(0));
});
call.on("error", () => process.exit(1));
call.end();
`;
