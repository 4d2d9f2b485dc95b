// The `run` command's flags and help. Its implementation (src/cli/commands/run.ts) loads when it runs, so
// `--help` and a bad flag cost only commander and the config schema.
import type { Command } from "commander";
import { configDefault } from "../../config/index.js";
import { collect } from "../flags.js";
import { addPolicyOptions, type PolicyFlags } from "../policy-flags.js";

/** The example played when nothing is configured, and the size of that default job. */
export const DEFAULT_JOB = { steps: 4, groupSize: 4, testRunBudget: 10 } as const;

export interface RunFlags extends PolicyFlags {
  store?: string;
  repo?: string[];
  image?: string[];
  steps?: string;
  duration?: string;
  groupSize?: string;
  alpha?: string;
  seed?: string;
  proposers?: string;
  validations?: string;
  solvers?: string;
  sandboxes?: string;
  secondOrder?: boolean;
  set?: string[];
  newRun?: boolean;
  rollouts?: string;
  allowUntrainable?: boolean;
  progress?: boolean;
  printConfig?: boolean;
  configSchema?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command("run")
    .description(
      "Run self-play: proposer steps, validation, solver groups, grading and rewards, stored in SQLite. Resumes the store's run.",
    )
    .option("--store <path>", `SQLite store (default ${configDefault("store")})`)
    .option("--repo <[name=]dir>", "repository directory as an environment (repeatable)", collect)
    .option("--image <[name=]image>", "container image as an environment (repeatable)", collect)
    .option(
      "--steps <n>",
      `proposer steps of the run [${DEFAULT_JOB.steps} in the default job; with --repo, --image or --config and neither --steps nor --duration, the run goes on until Ctrl-C]`,
    )
    .option("--duration <time>", "wall-clock length of the run, e.g. 30m or 2h")
    .option(
      "--group-size <n>",
      `solver attempts per valid artifact (G) [${configDefault("groupSize")}; ${DEFAULT_JOB.groupSize} in the default job]`,
    )
    .option("--alpha <x>", `proposer penalty for solve rates 0 and 1 [${configDefault("alpha")}]`)
    .option("--seed <n>", `seed of the run [${configDefault("seed")}]`)
    .option("--proposers <n>", `proposer episodes at once [${configDefault("concurrency.proposers")}]`)
    .option("--validations <n>", `validations at once [${configDefault("concurrency.validations")}]`)
    .option("--solvers <n>", `solver attempts at once [${configDefault("concurrency.solvers")}]`)
    .option("--sandboxes <n>", `sandboxes alive at once [${configDefault("concurrency.sandboxes")}]`)
    .option("--no-second-order", "do not make second-order bugs from failed attempts")
    .option(
      "--set <key=value>",
      "any configuration key by dotted path, e.g. thresholds.minPassingTests=5",
      collect,
    )
    .option("--new-run", "start a fresh run instead of resuming the store's")
    .option(
      "--rollouts <dir>",
      "export rollout records of every finished step into DIR/rollouts as the run goes",
    )
    .option(
      "--allow-untrainable",
      "with --rollouts: run and exit 0 even when the episodes give no trainable samples (e.g. a server without token ids)",
    )
    .option("--no-progress", "no live progress display")
    .option("--print-config", "print the effective configuration as YAML and exit")
    .option(
      "--config-schema",
      "print the JSON Schema of the configuration file (every field documented) and exit",
    )
    .option("--json", "print the summary as JSON");
  addPolicyOptions(
    command,
    "YAML config file: every section applies (environments, policy, limits, …); flags win over it",
  ).action(async (flags: RunFlags) => {
    const { run } = await import("../commands/run.js");
    process.exitCode = await run(flags);
  });
}
