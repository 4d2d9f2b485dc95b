// `swe-selfplay eval`: measure a policy on a frozen task set (k attempts per task, resumable), make such
// sets (`eval make-set`), list evaluations (`eval list`) and compare two on the same set (`eval compare`).
// The work is in src/eval/; this file reads flags and prints.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { createPolicy, openSqliteStore, runConfiguredEvaluation } from "../../compose/index.js";
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
import { evaluationTasks, getEvaluation, listEvaluations, type SqliteStore } from "../../store/index.js";
import type { EvalFlags, MakeSetFlags } from "../definitions/eval.js";
import { checkEnvironmentDirectories } from "../environments.js";
import { probeAndReport } from "../episode-progress.js";
import { EXIT_ERROR, EXIT_OK } from "../exit-codes.js";
import { agentExtrasFrom } from "../policy-flags.js";
import { integerFlag } from "./propose.js";
import { configFromFlags } from "./run.js";

export async function evaluate(flags: EvalFlags): Promise<number> {
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

export async function makeSet(flags: MakeSetFlags): Promise<number> {
  const out = resolve(flags.out);
  const candidates = await candidatesOf(flags);
  const filtered = filterCandidates(candidates, {
    ...(flags.environment ? { environments: flags.environment } : {}),
    ...(flags.strategy ? { strategies: flags.strategy } : {}),
    ...(flags.difficulty
      ? { difficulties: flags.difficulty.map((level) => integerFlag(level, "--difficulty", 1)) }
      : {}),
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
      difficulty: flags.difficulty ?? null,
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

export function listCommand(flags: { store: string; json?: boolean }): void {
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
}

export function showCommand(id: string, flags: { store: string; json?: boolean }): void {
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
}

export function compareCommand(a: string, b: string, flags: { store: string; json?: boolean }): void {
  const store = openExistingStore(flags.store);
  try {
    const side = (id: string) => {
      const evaluation = getEvaluation(store, id);
      if (!evaluation)
        throw new InputError("unknown-evaluation", `no evaluation ${id} in the store (see \`eval list\`)`);
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
}
