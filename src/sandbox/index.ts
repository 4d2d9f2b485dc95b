// The sandbox router: one backend for callers, routing each environment to the backend that runs it. Backends
// are entries in a list (their kind, the environments they serve, how they load); each is loaded on first use,
// so Docker (and its client library) stays optional. An environment may name its backend; otherwise a
// directory goes to "local" (bubblewrap) and an image to "docker". More backends come from configuration
// (`sandboxBackends`: a module exporting createSandboxBackend), the way a Kubernetes or remote backend plugs in.
// This is the one place that names backends; every command opens its sandboxes here.

import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { InfrastructureError, InputError } from "../errors.js";
import {
  addResources,
  type Environment,
  type Sandbox,
  type SandboxBackend,
  type SandboxResources,
  type SandboxSpec,
} from "../ports/sandbox.js";
import type { DockerBackendOptions } from "./docker/backend.js";
import { createLocalBackend, type LocalBackendOptions } from "./local/backend.js";

/** What a backend is given when it loads. */
export interface BackendContext {
  /** Run that owns the sandboxes (e.g. labels containers so leaked ones can be reaped). */
  runId?: string;
}

/** One backend the router can route to. */
export interface SandboxBackendEntry {
  /** Its name, as environments name it in configuration (`backend`). */
  readonly kind: string;
  /** The kinds of environment it can run. */
  readonly serves: readonly Environment["kind"][];
  /** Creates the backend; called once, on the first sandbox routed to it. */
  load(context: BackendContext): Promise<SandboxBackend>;
}

/** A backend declared in configuration: a module whose `createSandboxBackend(options)` makes it. */
export interface ConfiguredBackend {
  kind: string;
  serves: readonly Environment["kind"][];
  /** A package name, or a path (absolute, or relative to where the configuration was loaded). */
  module: string;
  /** Passed to createSandboxBackend, with the run id as `runId`. */
  options?: Record<string, unknown>;
}

/** The backend an environment gets when it names none. */
export const DEFAULT_BACKEND: Readonly<Record<Environment["kind"], string>> = {
  dir: "local",
  image: "docker",
};

export interface OpenSandboxesOptions {
  /** Run that owns the sandboxes (labels Docker containers so leaked ones can be reaped). */
  runId?: string;
  local?: LocalBackendOptions;
  docker?: DockerBackendOptions;
  /** Backends declared in configuration, after the built-in ones (a kind may not repeat). */
  configured?: readonly ConfiguredBackend[];
  /** Further backends given in code (tests, embedding programs). */
  backends?: readonly SandboxBackendEntry[];
}

export interface SandboxRouter extends SandboxBackend {
  /** The backend that serves this environment, created on first use. */
  backendFor(environment: Environment | Environment["kind"]): Promise<SandboxBackend>;
  /** Kinds of every backend this router can reach. */
  readonly backendKinds: readonly string[];
}

function builtinBackends(options: OpenSandboxesOptions): SandboxBackendEntry[] {
  return [
    { kind: "local", serves: ["dir"], load: async () => createLocalBackend(options.local) },
    {
      kind: "docker",
      serves: ["image"],
      load: async (context) => {
        const module = await import("./docker/backend.js");
        return module.createDockerBackend({ runId: context.runId, ...options.docker });
      },
    },
  ];
}

/** The entry of a configured backend: its module is imported on first use. */
export function configuredBackendEntry(declared: ConfiguredBackend): SandboxBackendEntry {
  return {
    kind: declared.kind,
    serves: declared.serves,
    load: async (context) => {
      const specifier = isAbsolute(declared.module) ? pathToFileURL(declared.module).href : declared.module;
      const module = (await import(specifier)) as { createSandboxBackend?: unknown };
      if (typeof module.createSandboxBackend !== "function") {
        throw new InputError(
          "sandbox-backend-invalid",
          `sandbox backend "${declared.kind}": module ${declared.module} exports no createSandboxBackend function`,
        );
      }
      const create = module.createSandboxBackend as (options: Record<string, unknown>) => unknown;
      return (await create({ ...declared.options, runId: context.runId })) as SandboxBackend;
    },
  };
}

function entriesOf(options: OpenSandboxesOptions): Map<string, SandboxBackendEntry> {
  const entries = new Map<string, SandboxBackendEntry>();
  const all = [
    ...builtinBackends(options),
    ...(options.configured ?? []).map(configuredBackendEntry),
    ...(options.backends ?? []),
  ];
  for (const entry of all) {
    if (entries.has(entry.kind)) {
      throw new InputError("sandbox-backend-duplicate", `sandbox backend "${entry.kind}" is declared twice`);
    }
    entries.set(entry.kind, entry);
  }
  return entries;
}

/** The entry that runs an environment of this kind naming this backend, or an InputError saying why none. */
function entryFor(
  entries: Map<string, SandboxBackendEntry>,
  environmentKind: Environment["kind"],
  named: string | undefined,
): SandboxBackendEntry {
  const kind = named ?? DEFAULT_BACKEND[environmentKind];
  const entry = entries.get(kind);
  if (!entry) {
    throw new InputError(
      "sandbox-backend-unknown",
      `no sandbox backend "${kind}" (known: ${[...entries.keys()].join(", ")}); declare it under sandboxBackends`,
    );
  }
  if (!entry.serves.includes(environmentKind)) {
    const what = environmentKind === "dir" ? "directory" : "image";
    throw new InputError(
      "sandbox-backend-mismatch",
      `sandbox backend "${kind}" does not run ${what} environments (it serves: ${entry.serves.join(", ")})`,
    );
  }
  return entry;
}

export function openSandboxes(options: OpenSandboxesOptions = {}): SandboxRouter {
  const entries = entriesOf(options);
  const loaded = new Map<string, Promise<SandboxBackend>>();
  // Backends once loaded, for the synchronous account of what they hold.
  const ready = new Map<string, SandboxBackend>();
  let closed = false;

  const load = (entry: SandboxBackendEntry): Promise<SandboxBackend> => {
    let backend = loaded.get(entry.kind);
    if (!backend) {
      backend = entry.load({ runId: options.runId });
      backend.then(
        (made) => ready.set(entry.kind, made),
        () => undefined,
      );
      backend = backend.catch((error: unknown) => {
        loaded.delete(entry.kind);
        if (error instanceof InputError) throw error;
        throw new InfrastructureError(
          `${entry.kind}-backend-unavailable`,
          `cannot load the ${entry.kind === "docker" ? "Docker" : `"${entry.kind}" sandbox`} backend: ${String(error)}`,
          { cause: error },
        );
      });
      loaded.set(entry.kind, backend);
    }
    return backend;
  };

  const backendFor = async (environment: Environment | Environment["kind"]): Promise<SandboxBackend> => {
    if (closed) throw new InfrastructureError("backend-closed", "the sandboxes have been closed");
    const entry =
      typeof environment === "string"
        ? entryFor(entries, environment, undefined)
        : entryFor(entries, environment.kind, environment.backend);
    return load(entry);
  };

  return {
    // Reported as "local" because that is the backend every directory environment gets by default; use
    // backendFor to reach a specific one.
    kind: "local",
    backendKinds: [...entries.keys()],
    backendFor,
    async create(spec: SandboxSpec): Promise<Sandbox> {
      const backend = await backendFor(spec.environment);
      return backend.create(spec);
    },
    async close(): Promise<void> {
      closed = true;
      const backends = await Promise.all(
        [...loaded.values()].map((backend) => backend.catch(() => undefined)),
      );
      await Promise.allSettled(backends.map((backend) => backend?.close()));
    },
    resources(): SandboxResources {
      return addResources(...[...ready.values()].map((backend) => backend.resources?.() ?? addResources()));
    },
  };
}

export { viewOf } from "../ports/sandbox.js";
export { WORKSPACE_STRATEGIES, type WorkspaceStrategy } from "./local/workspace.js";
export type { Destroyable } from "./registry.js";
export { destroyAll, liveSandboxes, track } from "./registry.js";
export type { DockerBackendOptions, LocalBackendOptions };
export { createLocalBackend };
