// The `solve` command's flags and help; its implementation (src/cli/commands/solve.ts) loads when it runs.
import type { Command } from "commander";
import { addPolicyOptions, type PolicyFlags } from "../policy-flags.js";
import type { EnvironmentFlags } from "./propose.js";

export interface SolveFlags extends PolicyFlags, EnvironmentFlags {
  attempts?: string;
  trajectories?: string;
  seed?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command("solve")
    .description("Validate an artifact, then run G solver attempts on it and grade each.")
    .argument("<artifact-dir>", "directory holding the five artifact files")
    .option("--repo <dir>", "repository directory (local bubblewrap sandbox)")
    .option("--image <name>", "container image holding the repository (Docker sandbox)")
    .option("--workdir <path>", "where the repository is inside the image")
    .option("--attempts <g>", "solver attempts", "1")
    .option("--seed <n>", "seed of the first attempt; attempt i uses seed + i", "0")
    .option("--trajectories <dir>", "write each model episode's steps to DIR/solver-<episode>.jsonl")
    .option("--json", "print the result as JSON");
  addPolicyOptions(command).action(async (artifactDir: string, flags: SolveFlags) => {
    const { solve } = await import("../commands/solve.js");
    process.exitCode = await solve(artifactDir, flags);
  });
}
