// The `propose` command's flags and help; its implementation (src/cli/commands/propose.ts) loads when it runs.
import type { Command } from "commander";
import { STRATEGIES } from "../../ports/artifact.js";
import { addPolicyOptions, type PolicyFlags } from "../policy-flags.js";

export interface EnvironmentFlags {
  repo?: string;
  image?: string;
  workdir?: string;
}

export interface ProposeFlags extends PolicyFlags, EnvironmentFlags {
  strategy?: string;
  difficulty?: string;
  seed?: string;
  out: string;
  json?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command("propose")
    .description("Run one proposer episode: inject a bug, weaken the tests, write and validate the artifact.")
    .option("--repo <dir>", "repository directory (local bubblewrap sandbox)")
    .option("--image <name>", "container image holding the repository (Docker sandbox)")
    .option("--workdir <path>", "where the repository is inside the image")
    .option("--strategy <name>", `bug-injection strategy: ${STRATEGIES.join(" | ")}`, "removal")
    .option(
      "--difficulty <level>",
      "only a bug of this difficulty, 1 (a one-token mutation in a short function a hidden test calls) to 4 (a stubbed body, a reverted commit, two files); the built-in proposer",
    )
    .option("--seed <n>", "seed of the episode", "0")
    .requiredOption(
      "--out <dir>",
      "directory that receives the artifact files, report.json, episode.json and the step-by-step trajectory",
    )
    .option("--json", "print the result as JSON");
  addPolicyOptions(command).action(async (flags: ProposeFlags) => {
    const { propose } = await import("../commands/propose.js");
    process.exitCode = await propose(flags);
  });
}
