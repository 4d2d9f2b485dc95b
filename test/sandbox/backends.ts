// The backends the conformance suite runs against, each with an environment holding a small repository
// (given as a creation patch, so that directory and image environments start from the same files).

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openConfiguredSandboxes } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import type { Environment, SandboxBackend } from "../../src/ports/sandbox.js";
import { createLocalBackend } from "../../src/sandbox/local/backend.js";
import { environmentSpec } from "../../src/selfplay/step-context.js";
import { projectRoot } from "../support/cli.js";
import { dockerImageExists, dockerStatus } from "../support/docker.js";

export interface BackendUnderTest {
  name: "local" | "docker" | "copy (from config)";
  /** Why the backend cannot run here, or undefined when it can. */
  unavailable?: string;
  /** Whether it isolates commands (file system, network, limits); the test-only copy backend does not. */
  isolated: boolean;
  open(): Promise<SandboxBackend>;
  environment(scratch: string): Promise<Environment>;
}

export const CONFORMANCE_IMAGE = "swe-selfplay/base:bookworm";

const dockerModule = fileURLToPath(new URL("../../src/sandbox/docker/backend.ts", import.meta.url));

function dockerUnavailable(): string | undefined {
  if (!existsSync(dockerModule)) return "the Docker backend is not built yet";
  const status = dockerStatus();
  if (!status.available) return status.why;
  if (!dockerImageExists(CONFORMANCE_IMAGE)) return `image ${CONFORMANCE_IMAGE} is missing (build it first)`;
  return undefined;
}

export function backendsUnderTest(): BackendUnderTest[] {
  return [
    {
      name: "local",
      isolated: true,
      open: async () => createLocalBackend(),
      environment: async (scratch) => {
        const directory = join(scratch, "environment");
        mkdirSync(directory, { recursive: true });
        return { kind: "dir", path: directory };
      },
    },
    {
      name: "docker",
      unavailable: dockerUnavailable(),
      isolated: true,
      open: async () => {
        const specifier = dockerModule;
        const module = (await import(specifier)) as { createDockerBackend(): SandboxBackend };
        return module.createDockerBackend();
      },
      environment: async () => ({ kind: "image", image: CONFORMANCE_IMAGE }),
    },
    {
      // A backend that is not in src/ at all, reached through configuration alone: declared under
      // sandboxBackends, named by the environment, opened by the commands' router.
      name: "copy (from config)",
      isolated: false,
      open: async () => openConfiguredSandboxes(copyBackendConfig([])),
      environment: async (scratch) => {
        const directory = join(scratch, "environment");
        mkdirSync(directory, { recursive: true });
        const config = copyBackendConfig([{ name: "conformance", path: directory, backend: "copy" }]);
        return environmentSpec(config.environments[0]!);
      },
    },
  ];
}

/** A configuration, as a user would write it, that declares the test-only copy backend. */
export function copyBackendConfig(environments: Record<string, unknown>[]) {
  return parseConfig(
    {
      environments,
      sandboxBackends: [{ kind: "copy", serves: ["dir"], module: "./test/support/copy-backend.ts" }],
    },
    "conformance config",
    projectRoot,
  );
}

/** A git-format patch that creates a small Python project (source, tests, a script) from nothing. */
export function seedPatch(scratch: string): string {
  const directory = join(scratch, "seed");
  mkdirSync(join(directory, "src"), { recursive: true });
  mkdirSync(join(directory, "tests"), { recursive: true });
  writeFileSync(join(directory, "README.md"), "# calc\n\nA tiny calculator.\n");
  writeFileSync(
    join(directory, "src", "calc.py"),
    "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
  );
  writeFileSync(
    join(directory, "tests", "test_calc.py"),
    "from src.calc import add, sub\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_sub():\n    assert sub(3, 2) == 1\n",
  );
  writeFileSync(join(directory, "run.sh"), "#!/bin/sh\necho running\n", { mode: 0o755 });
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: directory,
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
      },
    });
  git("init", "--quiet");
  git("add", "--all");
  return git("diff", "--cached", "--binary", "--full-index");
}
