// Where a run's repositories come from and what runs them: environments (a host directory or an image, each
// optionally naming its sandbox backend), the sandboxes' resource limits, and further sandbox backends.
import { z } from "zod";

const positiveInteger = z.number().int().positive();

const environmentBackend = z
  .string()
  .min(1)
  .optional()
  .describe(
    'Sandbox backend that runs this environment: "local" (bubblewrap, directories), "docker" (images), or the kind of an entry of sandboxBackends. Default: "local" for a directory, "docker" for an image.',
  );

export const directoryEnvironmentSchema = z
  .strictObject({
    name: z.string().min(1).describe("Unique name of the environment, used in artifacts, logs and exports."),
    path: z
      .string()
      .min(1)
      .describe("Host directory holding the repository (a git checkout with its dependencies installed)."),
    backend: environmentBackend,
  })
  .describe(
    "A repository in a host directory, run with the local (bubblewrap) backend unless it names another.",
  );

export const imageEnvironmentSchema = z
  .strictObject({
    name: z.string().min(1).describe("Unique name of the environment, used in artifacts, logs and exports."),
    image: z.string().min(1).describe("Container image with the repository and its dependencies installed."),
    workdir: z
      .string()
      .min(1)
      .optional()
      .describe("Where the repository is inside the image; it is exposed at /testbed in every sandbox."),
    backend: environmentBackend,
  })
  .describe("A repository inside a container image, run with the Docker backend unless it names another.");

export const environmentConfigSchema = z.union([directoryEnvironmentSchema, imageEnvironmentSchema]);

export const sandboxSettingsSchema = z
  .strictObject({
    memoryBytes: positiveInteger.optional().describe("Memory cap of every sandbox, bytes."),
    pids: positiveInteger.optional().describe("Process cap of every sandbox."),
    cpus: z.number().positive().optional().describe("CPU share of every sandbox (1.0 = one core)."),
  })
  .describe("Resource limits applied to every sandbox.");

export const sandboxBackendSchema = z
  .strictObject({
    kind: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/)
      .describe("Name of the backend, as environments name it in `backend` (not local or docker)."),
    serves: z
      .array(z.enum(["dir", "image"]))
      .min(1)
      .describe('Kinds of environment it runs: "dir" (a host directory), "image" (a container image).'),
    module: z
      .string()
      .min(1)
      .describe(
        "Module that makes it, exporting createSandboxBackend(options): a package name, or a path relative to the configuration's directory. Loaded on first use.",
      ),
    options: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("Given to createSandboxBackend (with the run id as runId)."),
  })
  .describe("A sandbox backend beyond the built-in local and docker ones (e.g. Kubernetes, a remote pool).");

/** Backend kinds are unique and every backend an environment names is built in or declared. */
export function checkSandboxBackends(
  config: {
    environments: readonly z.output<typeof environmentConfigSchema>[];
    sandboxBackends?: readonly z.output<typeof sandboxBackendSchema>[];
  },
  context: z.RefinementCtx,
): void {
  const kinds = new Set<string>(["local", "docker"]);
  config.sandboxBackends?.forEach((backend, index) => {
    if (kinds.has(backend.kind))
      context.addIssue({
        code: "custom",
        path: ["sandboxBackends", index, "kind"],
        message: `sandbox backend "${backend.kind}" is already declared (local and docker are built in)`,
      });
    kinds.add(backend.kind);
  });
  config.environments.forEach((environment, index) => {
    if (environment.backend !== undefined && !kinds.has(environment.backend))
      context.addIssue({
        code: "custom",
        path: ["environments", index, "backend"],
        message: `no sandbox backend "${environment.backend}" (known: ${[...kinds].join(", ")}); declare it under sandboxBackends`,
      });
  });
}
