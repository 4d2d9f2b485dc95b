// The `export` command's flags and help; its implementation (src/cli/commands/export.ts) loads when it runs.
import type { Command } from "commander";
import { configDefault } from "../../config/index.js";

export const FORMATS = ["rollouts", "swebench", "artifacts"] as const;
export type Format = (typeof FORMATS)[number];

export interface ExportFlags {
  store: string;
  format: string;
  out: string;
  run?: string;
  all?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("export")
    .description("Export a stored run: rollout records, SWE-bench-style tasks or artifact directories.")
    .option("--store <path>", "SQLite store of the run", String(configDefault("store")))
    .requiredOption("--format <format>", `what to write: ${FORMATS.join(" | ")}`)
    .requiredOption("--out <dir>", "output directory")
    .option("--run <id>", "run to export (default: the store's latest)")
    .option("--all", "artifacts format: also invalid artifacts")
    .option("--json", "print the result as JSON")
    .action(async (flags: ExportFlags) => {
      const { exportCommand } = await import("../commands/export.js");
      process.exitCode = await exportCommand(flags);
    });
}
