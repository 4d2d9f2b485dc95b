// `swe-selfplay eval`: measure a policy on a frozen task set (k attempts per task, resumable), make such
// sets (`eval make-set`), list evaluations (`eval list`) and compare two on the same set (`eval compare`).
// The work is in src/eval/; this file reads flags and prints.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { createPolicy, runConfiguredEvaluation } from "../../compose/index.js";
import { DEFAULT_STORE_PATH } from "../../config/index.js";
import { InputError } from "../../errors.js";
import {
  attemptOutcomes,
  type Candidate,
  candidatesFromDirectory,
  candidatesFromStore,
  candidatesFromSweBench,
  checkEvaluation,
  chooseSet,
  compareEvaluations,
  figuresOf,
  filterCandidates,
  formatComparison,
  formatFigures,
  holdOutBugs,
  holdOutEnvironments,
  readTaskSet,
  writeTaskSet,
} from "../../eval/index.js";
import {
  evaluationTasks,
  getEvaluation,
  listEvaluations,
  openSqliteStore,
  type SqliteStore,
} from "../../store/index.js";
import { checkEnvironmentDirectories } from "../environments.js";
import { probeAndReport } from "../episode-progress.js";
import { EXIT_ERROR, EXIT_OK } from "../exit-codes.js";
import { addPolicyOptions, agentExtrasFrom, type PolicyFlags } from "../policy-flags.js";
import { integerFlag } from "./propose.js";
import { configFromFlags } from "./run.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface EvalFlags extends PolicyFlags {
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

export function register(program: Command): void {
  const command = program
    .command("eval")
    .description(
      "Evaluate a policy on a frozen task set: k solver attempts per task through self-play's episodes, sandboxes and grading; resolve rate with a Wilson interval, pass@k.",
    )
    .option("--tasks <file>", "task set file (from `eval make-set`)")
    .option("--attempts <k>", "solver attempts per task", "1")
    .option("--resume", "continue the evaluation of this set, policy and sampling; finished attempts stay")
    .option("--store <path>", "SQLite store (default .swe-selfplay/store.db)")
    .option("--repo <[name=]dir>", "repository directory as an environment (repeatable)", collect)
    .option("--image <[name=]image>", "container image as an environment (repeatable)", collect)
    .option("--set <key=value>", "any configuration key by dotted path", collect)
    .option("--seed <n>", "seed of the attempts [0]")
    .option("--solvers <n>", "solver attempts at once [2]")
    .option("--validations <n>", "validations at once [1]")
    .option("--sandboxes <n>", "sandboxes alive at once [6]")
    .option("--policy-version <name>", "the policy version to record (e.g. a LoRA adapter's name)")
    .option("--json", "print the figures as JSON")
    // Its subcommands have options of the same names (--store, --json): this command's stop before them.
    .enablePositionalOptions();
  addPolicyOptions(command).action(async (flags: EvalFlags) => {
    process.exitCode = await evaluate(flags);
  });
  registerMakeSet(command);
  registerList(command);
  registerShow(command);
  registerCompare(command);
}

async function evaluate(flags: EvalFlags): Promise<number> {
  if (!flags.tasks)
    throw new InputError("bad-flag", "eval needs --tasks FILE (make one with `eval make-set`)");
  const attempts = integerFlag(flags.attempts, "--attempts", 1);
  const { config } = configFromFlags({ ...flags, seed: undefined });
  const setPath = resolve(flags.tasks);
  const set = readTaskSet(setPath);
  const extras = {
    ...agentExtrasFrom(flags),
    ...(flags.policyVersion ? { version: flags.policyVersion } : {}),
  };
  const policy = createPolicy(config.policy, extras);
  const { kind: _kind, ...policySettings } = config.policy as Record<string, unknown>;
  for (const key of ["baseUrl", "model", "apiKeyEnv", "requestTimeoutMs"]) delete policySettings[key];
  const sampling = { ...policySettings, ...(extras.callFormat ? { callFormat: extras.callFormat } : {}) };
  const store = openSqliteStore(config.store);
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  try {
    const request = { set, setPath, attempts, sampling, resume: flags.resume ?? false, seed: seedOf(flags) };
    // Refuse bad input before probing a server or starting a sandbox.
    checkEvaluation({ config, store, policy }, request);
    checkEnvironmentDirectories(config.environments);
    await probeAndReport(policy, {
      callFormat:
        extras.callFormat ?? (config.policy.kind === "openai" ? config.policy.callFormat : undefined),
    });
    let graded = 0;
    const total = set.tasks.length * attempts;
    const result = await runConfiguredEvaluation(
      config,
      {
        store,
        policy,
        signal: interrupt.signal,
        onEvent: (event) => {
          if (event.type !== "attempt-graded") return;
          graded++;
          process.stderr.write(
            `task ${event.stepIndex + 1}/${set.tasks.length} attempt ${event.attemptIndex + 1}/${attempts}: ${event.status} (${graded} of ${total} this session)\n`,
          );
        },
      },
      request,
    );
    if (result.status !== "completed") {
      process.stderr.write(
        `swe-selfplay: evaluation ${result.evaluation.id} stopped (${result.status}): ${result.error}; ${result.done} of ${result.total} attempts done, continue with --resume\n`,
      );
      return EXIT_ERROR;
    }
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ evaluation: result.evaluation, figures: result.figures }, null, 2)}\n`
        : formatFigures(result.evaluation.id, result.figures),
    );
    return EXIT_OK;
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    store.close();
  }
}

function seedOf(flags: EvalFlags): number {
  return integerFlag(flags.seed, "--seed", 0);
}

interface MakeSetFlags {
  out: string;
  name?: string;
  fromStore?: string;
  fromDir?: string;
  fromSwebench?: string;
  asEnvironment?: string;
  environment?: string[];
  strategy?: string[];
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
      process.exitCode = await makeSet(flags);
    });
}

async function makeSet(flags: MakeSetFlags): Promise<number> {
  const out = resolve(flags.out);
  const candidates = await candidatesOf(flags);
  const filtered = filterCandidates(candidates, {
    ...(flags.environment ? { environments: flags.environment } : {}),
    ...(flags.strategy ? { strategies: flags.strategy } : {}),
    ...(flags.order ? { order: orderOf(flags.order) } : {}),
    ...(flags.solveRate ? { solveRate: bandOf(flags.solveRate) } : {}),
  });
  const seed = integerFlag(flags.seed, "--seed", 0);
  const size = flags.size === undefined ? undefined : integerFlag(flags.size, "--size", 0);
  let set = chooseSet(filtered, {
    name: flags.name ?? out.replace(/^.*\//, "").replace(/\.json$/, ""),
    seed,
    ...(size ? { size } : {}),
    ...(flags.perEnvironment
      ? { perEnvironment: integerFlag(flags.perEnvironment, "--per-environment", 1) }
      : {}),
    source: sourceOf(flags),
  });
  let rest = null;
  if (flags.holdOutEnvironment || flags.holdOutFraction) {
    const split = flags.holdOutEnvironment
      ? holdOutEnvironments(set, flags.holdOutEnvironment)
      : holdOutBugs(set, Number(flags.holdOutFraction), seed);
    set = split.heldOut;
    rest = split.rest;
    if (flags.restOut) writeTaskSet(resolve(flags.restOut), rest);
  }
  writeTaskSet(out, set);
  const environments = [...new Set(set.tasks.map((task) => task.environment))];
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ out, tasks: set.tasks.length, environments, rest: rest?.tasks.length ?? null })}\n`
      : `wrote ${set.tasks.length} task(s) on ${environments.join(", ")} to ${out}${rest && flags.restOut ? `; ${rest.tasks.length} other task(s) to ${resolve(flags.restOut)}` : ""}\n`,
  );
  return EXIT_OK;
}

async function candidatesOf(flags: MakeSetFlags): Promise<Candidate[]> {
  if (flags.fromDir) return candidatesFromDirectory(resolve(flags.fromDir), flags.asEnvironment);
  if (flags.fromSwebench) return candidatesFromSweBench(resolve(flags.fromSwebench), flags.asEnvironment);
  const store = openExistingStore(flags.fromStore ?? DEFAULT_STORE_PATH);
  try {
    return candidatesFromStore(store);
  } finally {
    store.close();
  }
}

function sourceOf(flags: MakeSetFlags): Record<string, unknown> {
  if (flags.fromDir) return { kind: "artifacts-dir" };
  if (flags.fromSwebench) return { kind: "swebench" };
  return {
    kind: "store",
    filters: {
      environment: flags.environment ?? null,
      strategy: flags.strategy ?? null,
      order: flags.order ?? null,
      solveRate: flags.solveRate ?? null,
    },
  };
}

function orderOf(value: string): 1 | 2 {
  if (value !== "1" && value !== "2")
    throw new InputError("bad-flag", `--order expects 1 or 2, got "${value}"`);
  return value === "1" ? 1 : 2;
}

function bandOf(value: string): { min: number; max: number } {
  const [min, max] = value.split(":").map(Number);
  if (min === undefined || max === undefined || !(min >= 0 && max <= 1 && min <= max))
    throw new InputError("bad-flag", `--solve-rate expects MIN:MAX with 0 ≤ MIN ≤ MAX ≤ 1, got "${value}"`);
  return { min, max };
}

function openExistingStore(path: string): SqliteStore {
  const full = resolve(path);
  if (!existsSync(full)) throw new InputError("store-missing", `no store at ${full}: pass --store`);
  return openSqliteStore(full);
}

function registerList(parent: Command): void {
  parent
    .command("list")
    .description("List the store's evaluations: set, policy, status and resolve rate with its interval.")
    .option("--store <path>", "SQLite store", DEFAULT_STORE_PATH)
    .option("--json", "print as JSON")
    .action((flags: { store: string; json?: boolean }) => {
      const store = openExistingStore(flags.store);
      try {
        const evaluations = listEvaluations(store);
        if (flags.json) process.stdout.write(`${JSON.stringify(evaluations, null, 2)}\n`);
        else
          for (const evaluation of evaluations) {
            const figures = evaluation.figures as {
              resolveRate?: number;
              interval?: { low: number; high: number };
            } | null;
            const rate = figures?.interval
              ? `${((figures.resolveRate ?? 0) * 100).toFixed(1)}% [${(figures.interval.low * 100).toFixed(1)}%, ${(figures.interval.high * 100).toFixed(1)}%]`
              : "-";
            process.stdout.write(
              `${evaluation.id}  ${evaluation.taskSetName} (${evaluation.taskSetId})  ${evaluation.policyKind}:${evaluation.policyName}@${evaluation.policyVersion}  sampling ${evaluation.sampling}  k=${evaluation.attempts}  ${evaluation.status}  ${rate}\n`,
            );
          }
        process.exitCode = EXIT_OK;
      } finally {
        store.close();
      }
    });
}

function registerShow(parent: Command): void {
  parent
    .command("show")
    .description("Print one evaluation's figures (recomputed from its stored attempts).")
    .argument("<id>", "evaluation id (see `eval list`)")
    .option("--store <path>", "SQLite store", DEFAULT_STORE_PATH)
    .option("--json", "print as JSON")
    .action((id: string, flags: { store: string; json?: boolean }) => {
      const store = openExistingStore(flags.store);
      try {
        const evaluation = getEvaluation(store, id);
        if (!evaluation)
          throw new InputError("unknown-evaluation", `no evaluation ${id} in the store (see \`eval list\`)`);
        const figures = figuresOf(store, id, evaluationTasks(store, id).length, evaluation.attempts);
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ evaluation, figures }, null, 2)}\n`
            : `${evaluation.policyKind}:${evaluation.policyName}@${evaluation.policyVersion} on ${evaluation.taskSetName} (${evaluation.status})\n${formatFigures(id, figures)}`,
        );
        process.exitCode = EXIT_OK;
      } finally {
        store.close();
      }
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
    .option("--store <path>", "SQLite store", DEFAULT_STORE_PATH)
    .option("--json", "print as JSON")
    .action((a: string, b: string, flags: { store: string; json?: boolean }) => {
      const store = openExistingStore(flags.store);
      try {
        const side = (id: string) => {
          const evaluation = getEvaluation(store, id);
          if (!evaluation)
            throw new InputError(
              "unknown-evaluation",
              `no evaluation ${id} in the store (see \`eval list\`)`,
            );
          return {
            id,
            taskSetId: evaluation.taskSetId,
            policy: `${evaluation.policyKind}:${evaluation.policyName}@${evaluation.policyVersion} ${evaluation.sampling}`,
            attempts: attemptOutcomes(store, id),
          };
        };
        const comparison = compareEvaluations(side(a), side(b));
        process.stdout.write(
          flags.json ? `${JSON.stringify(comparison, null, 2)}\n` : formatComparison(comparison),
        );
        process.exitCode = EXIT_OK;
      } finally {
        store.close();
      }
    });
}
