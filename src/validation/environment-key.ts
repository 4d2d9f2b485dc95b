// A stable string naming an environment, for cache keys and reports.
import { resolve } from "node:path";
import { DEFAULT_WORKDIR, type Environment } from "../ports/sandbox.js";

export function environmentKey(environment: Environment): string {
  if (environment.kind === "dir") return `dir:${resolve(environment.path)}`;
  return `image:${environment.image}@${environment.workdir ?? DEFAULT_WORKDIR}`;
}
