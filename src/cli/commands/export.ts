// `swe-selfplay export`: writes what a stored run produced as rollout records (trainer protocol),
// SWE-bench-style task lines, artifact directories, or supervised fine-tuning lines (export-sft.ts).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { openStore } from "../../compose/index.js";
import { InputError } from "../../errors.js";
import {
  exportArtifacts,
  exportRollouts,
  exportSweBench,
  whyNoArtifacts,
  whyNoRollouts,
} from "../../selfplay/index.js";
import type { RunId } from "../../store/index.js";
import { type ExportFlags, FORMATS, type Format } from "../definitions/export.js";
import { EXIT_OK } from "../exit-codes.js";
import { runSftExport, type SftFlags } from "./export-sft.js";

export async function exportCommand(flags: ExportFlags): Promise<number> {
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
