// `swe-selfplay export --format sft | sft-tokens`: the flags that choose episodes, the tokenizer server of
// the token-exact variant (chosen here, the composition root), and the counts of skipped episodes on stderr.
import { semanticKey } from "../../artifact/index.js";
import { serverTokenizer } from "../../compose/index.js";
import { InputError } from "../../errors.js";
import { readTaskSet } from "../../eval/index.js";
import type { Role } from "../../ports/policy.js";
import type { RunId, Store } from "../../ports/store.js";
import { exportSft, exportSftTokens, type SftExportResult, type SftFilters } from "../../selfplay/index.js";
import { numberFlag, positiveIntegerFlag } from "../flags.js";

export interface SftFlags {
  role?: string;
  resolved?: boolean;
  valid?: boolean;
  minReward?: string;
  environment?: string[];
  policy?: string[];
  perArtifact?: string;
  all?: boolean;
  excludeSet?: string[];
  tokenizerUrl?: string;
  model?: string;
}

const ROLES: readonly Role[] = ["proposer", "solver"];

export function sftFilters(flags: SftFlags): SftFilters {
  if (flags.role !== undefined && !ROLES.includes(flags.role as Role))
    throw new InputError("bad-flag", `--role expects proposer or solver, got "${flags.role}"`);
  if (flags.all && flags.perArtifact !== undefined)
    throw new InputError(
      "bad-flag",
      "--all and --per-artifact exclude each other: --all keeps every episode",
    );
  return {
    ...(flags.role ? { roles: [flags.role as Role] } : {}),
    resolved: Boolean(flags.resolved),
    valid: Boolean(flags.valid),
    minReward: numberFlag(flags.minReward, "--min-reward"),
    environments: flags.environment ?? [],
    policies: flags.policy ?? [],
    perArtifact: flags.all ? "all" : (positiveIntegerFlag(flags.perArtifact, "--per-artifact") ?? 1),
    ...(flags.excludeSet && flags.excludeSet.length > 0 ? { exclude: excludedBugs(flags.excludeSet) } : {}),
  };
}

/** The bugs of task set files (e.g. a frozen evaluation set): their artifact ids and their bugs' semantic keys. */
export function excludedBugs(paths: readonly string[]): NonNullable<SftFilters["exclude"]> {
  const artifactIds = new Set<string>();
  const bugKeys = new Set<string>();
  for (const path of paths)
    for (const task of readTaskSet(path).tasks) {
      artifactIds.add(task.artifact_id);
      const key = task.artifact ? semanticKey(task.artifact.bug_inject_diff) : null;
      if (key !== null) bugKeys.add(key);
    }
  return { artifactIds, bugKeys };
}

/** The export of one SFT format; what was skipped goes to stderr, one line per reason. */
export async function runSftExport(
  format: "sft" | "sft-tokens",
  flags: SftFlags,
  store: Store,
  runIds: readonly RunId[],
  outDir: string,
): Promise<{ result: SftExportResult; text: string }> {
  const filters = sftFilters(flags);
  let result: SftExportResult;
  if (format === "sft") {
    result = exportSft({ store, runIds, outDir, filters });
  } else {
    if (!flags.tokenizerUrl)
      throw new InputError(
        "bad-flag",
        "--format sft-tokens needs --tokenizer-url, the root of a server with /tokenize (vLLM's OpenAI server, e.g. http://127.0.0.1:8000)",
      );
    const tokenizer = serverTokenizer(flags.tokenizerUrl, flags.model);
    result = await exportSftTokens({ store, runIds, outDir, filters, renderer: tokenizer });
  }
  for (const [reason, count] of Object.entries(result.skipped))
    process.stderr.write(`skipped ${count} episode${count === 1 ? "" : "s"}: ${reason}\n`);
  const text = `${result.path}: ${result.count} lines (${result.filteredOut} episodes left out by the filters or the per-artifact choice)`;
  return { result, text };
}
