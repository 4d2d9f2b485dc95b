// The `sandbox` commands' flags and help; their implementation (src/cli/commands/sandbox.ts) loads when one runs.
import type { Command } from "commander";
import { DEFAULT_WORKDIR, WORKSPACE_STRATEGIES } from "../../ports/sandbox.js";

export interface ExecOptions {
  repo?: string;
  image?: string;
  workdir?: string;
  timeout: string;
  workspace?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const group = program.command("sandbox").description("Run commands in sandboxes.");
  group
    .command("exec")
    .description(
      "Run one command in a fresh sandbox and print its result. One argument is a shell command line; " +
        "several are quoted and joined.",
    )
    .option("--repo <dir>", "environment: a repository directory (local bubblewrap sandbox)")
    .option("--image <name>", "environment: a container image holding the repository (Docker sandbox)")
    .option("--workdir <path>", `where the repository is inside the image (default ${DEFAULT_WORKDIR})`)
    .option("--timeout <seconds>", "wall-clock limit; the whole process tree is killed on expiry", "600")
    .option("--workspace <strategy>", `local workspace: ${WORKSPACE_STRATEGIES.join(" | ")}`)
    .option("--json", "print the run result as JSON on stdout")
    .argument("<command...>", "command to run (after --)")
    .action(async (words: string[], options: ExecOptions) => {
      const { exec } = await import("../commands/sandbox.js");
      process.exitCode = await exec(words, options);
    });
}
