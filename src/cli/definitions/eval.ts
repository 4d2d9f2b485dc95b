// The `eval` commands' flags and help; their implementation (src/cli/commands/eval.ts) loads when one runs.
import type { Command } from "commander";
import { configDefault } from "../../config/index.js";
import { collect } from "../flags.js";
import { addPolicyOptions, type PolicyFlags } from "../policy-flags.js";

export interface EvalFlags extends PolicyFlags {
  tasks?: string;
  attempts?: string;
  resume?: boolean;
  store?: string;
  repo?: string[];
  image?: string[];
  set?: string[];
  seed?: string;
  solvers?: string;
  validations?: string;
  sandboxes?: string;
  policyVersion?: string;
  json?: boolean;
}

export interface MakeSetFlags {
  out: string;
  name?: string;
  fromStore?: string;
  fromDir?: string;
  fromSwebench?: string;
  asEnvironment?: string;
  environment?: string[];
  strategy?: string[];
  difficulty?: string[];
  order?: string;
  solveRate?: string;
  seed?: string;
  size?: string;
  perEnvironment?: string;
  holdOutEnvironment?: string[];
  holdOutFraction?: string;
  restOut?: string;
  json?: boolean;
}

type StoreFlags = { store: string; json?: boolean };

export function register(program: Command): void {
  const command = program
    .command("eval")
    .description(
      "Evaluate a policy on a frozen task set: k solver attempts per task through self-play's episodes, sandboxes and grading; resolve rate with a Wilson interval, pass@k.",
    )
    .option("--tasks <file>", "task set file (from `eval make-set`)")
    .option("--attempts <k>", "solver attempts per task", "1")
    .option("--resume", "continue the evaluation of this set, policy and sampling; finished attempts stay")
    .option("--store <path>", `SQLite store (default ${configDefault("store")})`)
    .option("--repo <[name=]dir>", "repository directory as an environment (repeatable)", collect)
    .option("--image <[name=]image>", "container image as an environment (repeatable)", collect)
    .option("--set <key=value>", "any configuration key by dotted path", collect)
    .option("--seed <n>", `seed of the attempts [${configDefault("seed")}]`)
    .option("--solvers <n>", `solver attempts at once [${configDefault("concurrency.solvers")}]`)
    .option("--validations <n>", `validations at once [${configDefault("concurrency.validations")}]`)
    .option("--sandboxes <n>", `sandboxes alive at once [${configDefault("concurrency.sandboxes")}]`)
    .option("--policy-version <name>", "the policy version to record (e.g. a LoRA adapter's name)")
    .option("--json", "print the figures as JSON")
    // Its subcommands have options of the same names (--store, --json): this command's stop before them.
    .enablePositionalOptions();
  addPolicyOptions(command).action(async (flags: EvalFlags) => {
    const { evaluate } = await import("../commands/eval.js");
    process.exitCode = await evaluate(flags);
  });
  registerMakeSet(command);
  registerList(command);
  registerShow(command);
  registerCompare(command);
}

function registerMakeSet(parent: Command): void {
  parent
    .command("make-set")
    .description(
      "Write a frozen task set (artifact content ids and files) from a store, an artifacts directory or SWE-bench-style JSONL.",
    )
    .requiredOption("--out <file>", "task set file to write")
    .option("--name <name>", "the set's name (default: the file's name)")
    .option("--from-store <path>", "valid artifacts of this store (default source: the default store)")
    .option("--from-dir <dir>", "an exported artifacts directory (export --format artifacts)")
    .option("--from-swebench <file>", "SWE-bench-style JSONL lines (export --format swebench)")
    .option("--as-environment <name>", "with --from-dir/--from-swebench: the environment of every task")
    .option("--environment <name>", "keep tasks on this environment (repeatable)", collect)
    .option("--strategy <name>", "keep tasks of this strategy (repeatable)", collect)
    .option(
      "--difficulty <level>",
      "keep tasks whose artifact records this difficulty level, 1 (easiest) to 4 (repeatable)",
      collect,
    )
    .option("--order <n>", "keep first-order (1) or second-order (2) bugs")
    .option("--solve-rate <min:max>", "keep tasks whose self-play solve rate is in [min, max] (store source)")
    .option("--seed <n>", "seed of the choice", "0")
    .option("--size <n>", "tasks to choose (default: all that pass the filters)")
    .option("--per-environment <n>", "tasks to choose from every environment (instead of --size)")
    .option(
      "--hold-out-environment <name>",
      "write only this environment's tasks; the rest go to --rest-out",
      collect,
    )
    .option(
      "--hold-out-fraction <x>",
      "write this share of every environment's tasks; the rest go to --rest-out",
    )
    .option("--rest-out <file>", "with a hold-out: where the tasks not held out go")
    .option("--json", "print the result as JSON")
    .action(async (flags: MakeSetFlags) => {
      const { makeSet } = await import("../commands/eval.js");
      process.exitCode = await makeSet(flags);
    });
}

function registerList(parent: Command): void {
  parent
    .command("list")
    .description("List the store's evaluations: set, policy, status and resolve rate with its interval.")
    .option("--store <path>", "SQLite store", String(configDefault("store")))
    .option("--json", "print as JSON")
    .action(async (flags: StoreFlags) => {
      const { listCommand } = await import("../commands/eval.js");
      listCommand(flags);
    });
}

function registerShow(parent: Command): void {
  parent
    .command("show")
    .description("Print one evaluation's figures (recomputed from its stored attempts).")
    .argument("<id>", "evaluation id (see `eval list`)")
    .option("--store <path>", "SQLite store", String(configDefault("store")))
    .option("--json", "print as JSON")
    .action(async (id: string, flags: StoreFlags) => {
      const { showCommand } = await import("../commands/eval.js");
      showCommand(id, flags);
    });
}

function registerCompare(parent: Command): void {
  parent
    .command("compare")
    .description(
      "Compare two evaluations of the same task set: paired difference, bootstrap interval, McNemar test.",
    )
    .argument("<a>", "evaluation id (A)")
    .argument("<b>", "evaluation id (B)")
    .option("--store <path>", "SQLite store", String(configDefault("store")))
    .option("--json", "print as JSON")
    .action(async (a: string, b: string, flags: StoreFlags) => {
      const { compareCommand } = await import("../commands/eval.js");
      compareCommand(a, b, flags);
    });
}
