// The `export` command's flags and help; its implementation (src/cli/commands/export.ts) loads when it runs.
import type { Command } from "commander";
import { configDefault } from "../../config/index.js";
import type { SftFlags } from "../commands/export-sft.js";
import { collect } from "../flags.js";

export const FORMATS = ["rollouts", "swebench", "artifacts", "sft", "sft-tokens"] as const;
export type Format = (typeof FORMATS)[number];

export interface ExportFlags extends SftFlags {
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
    .description(
      "Export a stored run: rollout records, SWE-bench-style tasks, artifact directories or SFT lines (messages or token ids).",
    )
    .option("--store <path>", "SQLite store of the run", String(configDefault("store")))
    .requiredOption("--format <format>", `what to write: ${FORMATS.join(" | ")}`)
    .requiredOption("--out <dir>", "output directory")
    .option("--run <id>", "run to export (default: the store's latest); sft formats: `all` for every run")
    .option(
      "--all",
      "artifacts format: also invalid artifacts; sft formats: every episode, not one per artifact",
    )
    .option("--role <role>", "sft formats: only proposer or solver episodes")
    .option("--resolved", "sft formats: solver episodes graded resolved (with --valid: and valid proposers)")
    .option(
      "--valid",
      "sft formats: proposer episodes whose artifact is valid (with --resolved: and resolved solvers)",
    )
    .option("--min-reward <number>", "sft formats: episodes with at least this reward")
    .option("--environment <name>", "sft formats: episodes on this environment (repeatable)", collect)
    .option("--policy <kind|name|kind:name>", "sft formats: episodes of this policy (repeatable)", collect)
    .option(
      "--per-artifact <n>",
      "sft formats: episodes kept per artifact, best reward first (one unless given)",
    )
    .option(
      "--exclude-set <file>",
      "sft formats: leave out episodes on the bugs of this task set, by artifact id or same bug (repeatable)",
      collect,
    )
    .option(
      "--tokenizer-url <url>",
      "sft-tokens: root of the server whose /tokenize renders the chat template",
    )
    .option("--model <name>", "sft-tokens: served model to render for (default: the server's only one)")
    .option("--json", "print the result as JSON")
    .action(async (flags: ExportFlags) => {
      const { exportCommand } = await import("../commands/export.js");
      process.exitCode = await exportCommand(flags);
    });
}
