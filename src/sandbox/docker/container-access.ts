// A Docker container as the reusable container pieces (git over exec) see it: an exec function and a
// fast path for writing a file through the Engine's archive API.

import type Docker from "dockerode";
import { writeThroughArchive } from "./archive.js";
import type { ContainerAccess } from "./container-git.js";
import { execInContainer } from "./exec.js";

export function dockerContainerAccess(container: Docker.Container): ContainerAccess {
  return {
    name: container.id.slice(0, 12),
    exec: (options) => execInContainer(container, options),
    putFile: (path, content, options) => writeThroughArchive(container, path, content, options),
  };
}
