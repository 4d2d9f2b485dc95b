// `swe-selfplay export`: writes what a stored run produced as rollout records (trainer protocol),
// SWE-bench-style task lines, artifact directories, or supervised fine-tuning lines (export-sft.ts).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { DEFAULT_STORE_PATH } from "../../config/index.js";
import { InputError } from "../../errors.js";
import {
  exportArtifacts,
  exportRollouts,
  exportSweBench,
  whyNoArtifacts,
  whyNoRollouts,
} from "../../selfplay/index.js";
import { openStore, type RunId } from "../../store/index.js";
import { EXIT_OK } from "../exit-codes.js";
import { collect } from "../flags.js";
import { runSftExport, type SftFlags } from "./export-sft.js";

const FORMATS = ["rollouts", "swebench", "artifacts", "sft", "sft-tokens"] as const;
type Format = (typeof FORMATS)[number];

interface ExportFlags extends SftFlags {
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
    .option("--store <path>", "SQLite store of the run", DEFAULT_STORE_PATH)
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
    .option("--per-artifact <n>", "sft formats: episodes kept per artifact, best reward first [1]")
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
      process.exitCode = await exportCommand(flags);
    });
}

async function exportCommand(flags: ExportFlags): Promise<number> {
  if (!FORMATS.includes(flags.format as Format))
    throw new InputError("bad-flag", `--format expects one of ${FORMATS.join(", ")}, got "${flags.format}"`);
  const storePath = resolve(flags.store);
  if (!existsSync(storePath))
    throw new InputError(
      "store-missing",
      `no store at ${storePath}: run \`swe-selfplay run\` first or pass --store`,
    );
  const store = openStore(storePath);
  try {
    const format = flags.format as Format;
    const sft = format === "sft" || format === "sft-tokens";
    const runs = sft && flags.run === "all" ? store.listRuns() : [];
    const run = runs[0] ?? (flags.run ? store.getRun(flags.run as RunId) : store.latestRun());
    if (!run)
      throw new InputError(
        "run-missing",
        flags.run && flags.run !== "all"
          ? `no run "${flags.run}" in ${storePath}`
          : `${storePath} holds no run`,
      );
    const outDir = resolve(flags.out);
    let result: Record<string, unknown>;
    let text: string;
    // An empty export says why, so "0 records" is never the whole answer.
    let empty: string | null = null;
    switch (format) {
      case "rollouts": {
        const exported = exportRollouts({ store, runId: run.id, outDir });
        result = { format: "rollouts", runId: run.id, ...exported };
        text = `${exported.directory}: ${exported.stepsWritten.length} steps written (${exported.records} records), ${exported.stepsPresent.length} already present, ${exported.stepsPending.length} pending`;
        if (exported.records === 0 && exported.stepsPresent.length === 0)
          empty = whyNoRollouts(store, run.id);
        break;
      }
      case "swebench": {
        const exported = exportSweBench({ store, runId: run.id, outDir });
        result = { format: "swebench", runId: run.id, ...exported };
        text = `${exported.path}: ${exported.count} instances`;
        if (exported.count === 0) empty = whyNoArtifacts(store, run.id);
        break;
      }
      case "artifacts": {
        const exported = await exportArtifacts({ store, runId: run.id, outDir, validOnly: !flags.all });
        result = { format: "artifacts", runId: run.id, ...exported };
        text = `${exported.directory}: ${exported.count} artifacts`;
        if (exported.count === 0) empty = whyNoArtifacts(store, run.id);
        break;
      }
      case "sft":
      case "sft-tokens": {
        const runIds = runs.length > 0 ? runs.map((each) => each.id) : [run.id];
        const exported = await runSftExport(format, flags, store, runIds, outDir);
        result = { format, runIds, ...exported.result };
        text = exported.text;
        if (exported.result.count === 0)
          empty = "no episode passed the filters with a stored conversation (see the counts above)";
        break;
      }
    }
    if (empty) {
      result = { ...result, empty };
      text = `${text}\nnothing to export: ${empty}`;
    }
    process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${text}\n`);
    return EXIT_OK;
  } finally {
    store.close();
  }
}
