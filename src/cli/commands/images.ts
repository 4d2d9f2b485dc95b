// `swe-selfplay images`: builds the sandbox images from Debian packages (base, and the toolz library used
// as a real-world environment) by running the project's scripts, and shows which images are present.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { InfrastructureError } from "../../errors.js";
import { EXIT_OK } from "../exit-codes.js";

const IMAGES = {
  base: "swe-selfplay/base:bookworm",
  toolz: "swe-selfplay/toolz:latest",
} as const;

interface BuildOptions {
  force?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const group = program.command("images").description("Build and list the sandbox images.");
  group
    .command("build-base")
    .description(
      `Build ${IMAGES.base} (Debian bookworm with python3, pytest, node and git) with debootstrap and the ` +
        "mirror of this machine's apt sources; skipped when an image with the same content key exists. Needs root.",
    )
    .option("--force", "rebuild even when the image is up to date")
    .option("--json", "print the result as JSON on stdout")
    .action(async (options: BuildOptions) => {
      process.exitCode = await build("build-base-image.sh", IMAGES.base, options);
    });
  group
    .command("build-toolz")
    .description(
      `Build ${IMAGES.toolz}: the base image with the toolz library (from Debian's source packages, as a git ` +
        "repository) at /testbed; checks that its tests pass inside. Builds the base image first when it is missing.",
    )
    .option("--force", "rebuild even when the image is up to date")
    .option("--json", "print the result as JSON on stdout")
    .action(async (options: BuildOptions) => {
      if (!options.force && !(await imageInfo(IMAGES.base))) {
        await build("build-base-image.sh", IMAGES.base, { json: false, quiet: true });
      }
      process.exitCode = await build("build-toolz-image.sh", IMAGES.toolz, options);
    });
  group
    .command("status")
    .description("Show whether the sandbox images are present, with their ids and content keys.")
    .option("--json", "print the result as JSON on stdout")
    .action(async (options: { json?: boolean }) => {
      const rows = await Promise.all(
        Object.values(IMAGES).map(async (image) => {
          const info = await imageInfo(image);
          return { image, present: info !== undefined, ...info };
        }),
      );
      if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else {
        for (const row of rows) {
          process.stdout.write(
            row.present
              ? `${row.image}\t${(row.id ?? "").slice(7, 19)}\tkey ${row.contentKey ?? "-"}\n`
              : `${row.image}\tmissing\n`,
          );
        }
      }
      process.exitCode = EXIT_OK;
    });
}

async function build(
  script: string,
  image: string,
  options: BuildOptions & { quiet?: boolean },
): Promise<number> {
  const path = join(scriptsDirectory(), script);
  const args = [path, ...(options.force ? ["--force"] : [])];
  const started = performance.now();
  const output = await new Promise<string>((resolve, reject) => {
    // Progress goes to our stderr as it happens; the script's last stdout line names the image.
    const child = spawn("bash", args, { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.on("error", (error) =>
      reject(
        new InfrastructureError("image-build-failed", `cannot run bash ${path}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    child.on("close", (code) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new InfrastructureError(
            "image-build-failed",
            `building ${image} failed: ${path} exited ${code} (its output above says why)`,
            { data: { script: path, exitCode: code } },
          ),
        );
    });
  });
  const info = await imageInfo(image);
  const result = {
    image: output.trim().split("\n").pop() || image,
    id: info?.id,
    contentKey: info?.contentKey,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  if (options.quiet) return EXIT_OK;
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${result.image}\n`);
  return EXIT_OK;
}

async function imageInfo(
  image: string,
): Promise<{ id: string; contentKey?: string; created: string } | undefined> {
  try {
    // Loaded here, not with the program: dockerode's dependency tree slows every command's start.
    const { default: Docker } = await import("dockerode");
    const info = await new Docker().getImage(image).inspect();
    return {
      id: info.Id,
      contentKey: info.Config?.Labels?.["swe-selfplay.content-key"],
      created: info.Created,
    };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw new InfrastructureError(
      "docker-unreachable",
      `no Docker engine answers (${String(error)}); start one ('dockerd > /var/log/dockerd.log 2>&1 &' as root, or 'bash scripts/setup.sh')`,
      { cause: error },
    );
  }
}

/** The project's scripts/ folder, found upwards from this module (source tree or built package). */
function scriptsDirectory(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(directory, "scripts", "build-base-image.sh"))) return join(directory, "scripts");
    const parent = dirname(directory);
    if (parent === directory) {
      throw new InfrastructureError(
        "scripts-missing",
        "cannot find scripts/build-base-image.sh above the installed package",
      );
    }
    directory = parent;
  }
}
