import { dirname, join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { createPolicy, openStore, runConfiguredSelfPlay } from "../../compose/index.js";
import {
  configSchema,
  DEFAULT_STORE_PATH,
  loadConfig,
  parseDuration,
  type SelfPlayConfig,
} from "../../config/index.js";
import { createLogger, logToFile } from "../../log.js";
import type { Policy } from "../../ports/policy.js";
import {
  configuredWeights,
  exportRollouts,
  formatSummary,
  formatTrainable,
  learnabilityEnabled,
  type SelfPlayResult,
} from "../../selfplay/index.js";
import type { RunId } from "../../store/index.js";
import {
  checkEnvironmentDirectories,
  DEFAULT_EXAMPLE,
  defaultEnvironment,
  environmentsFrom,
} from "../environments.js";
import { probeAndReport, untrainableReason } from "../episode-progress.js";
import { EXIT_ERROR, EXIT_NEGATIVE, EXIT_OK } from "../exit-codes.js";
import { collect, numberFlag } from "../flags.js";
import {
  addPolicyOptions,
  agentExtrasFrom,
  modelRequested,
  type PolicyFlags,
  policyConfigFrom,
} from "../policy-flags.js";
import { createProgress, type ProgressDisplay } from "../progress.js";

const log = createLogger("run");

/** The example played when nothing is configured, and the size of that default job. */
export const DEFAULT_JOB = { steps: 4, groupSize: 4, testRunBudget: 10 } as const;

interface RunFlags extends PolicyFlags {
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
    .option("--store <path>", "SQLite store (default .swe-selfplay/store.db)")
    .option("--repo <[name=]dir>", "repository directory as an environment (repeatable)", collect)
    .option("--image <[name=]image>", "container image as an environment (repeatable)", collect)
    .option(
      "--steps <n>",
      `proposer steps of the run [${DEFAULT_JOB.steps} in the default job; with --repo, --image or --config and neither --steps nor --duration, the run goes on until Ctrl-C]`,
    )
    .option("--duration <time>", "wall-clock length of the run, e.g. 30m or 2h")
    .option(
      "--group-size <n>",
      `solver attempts per valid artifact (G) [${configSchema.shape.groupSize.parse(undefined)}; ${DEFAULT_JOB.groupSize} in the default job]`,
    )
    .option("--alpha <x>", "proposer penalty for solve rates 0 and 1 [0.8]")
    .option("--seed <n>", "seed of the run [0]")
    .option("--proposers <n>", "proposer episodes at once [1]")
    .option("--validations <n>", "validations at once [1]")
    .option("--solvers <n>", "solver attempts at once [2]")
    .option("--sandboxes <n>", "sandboxes alive at once [6]")
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
    process.exitCode = await run(flags);
  });
}

export function configFromFlags(flags: RunFlags): { config: SelfPlayConfig; defaultJob: boolean } {
  const overrides: Record<string, unknown> = {
    store: flags.store,
    environments: environmentsFrom(flags),
    "limits.steps": numberFlag(flags.steps, "--steps"),
    "limits.durationMs": flags.duration === undefined ? undefined : parseDuration(flags.duration),
    groupSize: numberFlag(flags.groupSize, "--group-size"),
    alpha: numberFlag(flags.alpha, "--alpha"),
    seed: numberFlag(flags.seed, "--seed"),
    "concurrency.proposers": numberFlag(flags.proposers, "--proposers"),
    "concurrency.validations": numberFlag(flags.validations, "--validations"),
    "concurrency.solvers": numberFlag(flags.solvers, "--solvers"),
    "concurrency.sandboxes": numberFlag(flags.sandboxes, "--sandboxes"),
    "secondOrder.enabled": flags.secondOrder === false ? false : undefined,
  };
  // Any model flag or SWE_SELFPLAY_BASE_URL/_MODEL selects (or requires) the model policy: flags > environment > file.
  if (flags.policy !== undefined || modelRequested(flags)) overrides.policy = policyConfigFrom(flags);
  let config = loadConfig({ file: flags.config, overrides, assignments: flags.set ?? [] });
  const defaultJob = !flags.config && config.environments.length === 0;
  if (defaultJob) {
    // Nothing configured: a small bounded job, unless the user bounded it otherwise.
    const bounded = config.limits.steps !== undefined || config.limits.durationMs !== undefined;
    config = {
      ...config,
      groupSize: flags.groupSize === undefined ? DEFAULT_JOB.groupSize : config.groupSize,
      limits: { ...config.limits, steps: bounded ? config.limits.steps : DEFAULT_JOB.steps },
      // A smaller repair budget keeps the demonstration job within a few minutes.
      policy:
        config.policy.kind === "builtin" && config.policy.testRunBudget === undefined
          ? { ...config.policy, testRunBudget: DEFAULT_JOB.testRunBudget }
          : config.policy,
    };
  }
  return { config, defaultJob };
}

/** The configuration with the defaults that depend on the policy filled in, as the run will use them. */
export function withPolicyDefaults(config: SelfPlayConfig): SelfPlayConfig {
  return {
    ...config,
    strategies: {
      ...config.strategies,
      direct: configuredWeights(config.strategies, config.policy.kind).direct,
    },
    strategyAdaptation: {
      ...config.strategyAdaptation,
      learnability: learnabilityEnabled(config.strategyAdaptation, config.policy.kind),
    },
  };
}

/** Where the results are and the commands to try next, after a run's summary. */
export function nextSteps(config: SelfPlayConfig, haveArtifacts: boolean): string {
  const store = relativeToHere(config.store);
  const storeFlag = store === DEFAULT_STORE_PATH ? "" : ` --store ${store}`;
  const repo = config.environments.find((environment) => "path" in environment);
  const out = join(dirname(store), "export");
  const lines = ["", `results are in ${store} (SQLite); next:`];
  if (haveArtifacts) {
    lines.push(
      `  npx swe-selfplay export --format artifacts${storeFlag} --out ${out}    # the valid bug artifacts, five files each`,
    );
    if (repo && "path" in repo)
      lines.push(
        `  npx swe-selfplay validate ${out}/artifacts/<id> --repo ${relativeToHere(repo.path)}    # re-check one artifact`,
      );
  }
  lines.push(
    `  npx swe-selfplay export --format rollouts${storeFlag} --out ${out}    # rollout records for a trainer`,
    "  npx swe-selfplay run --repo myproj=/path/to/checkout --steps 20    # your own repository",
    "",
  );
  return lines.join("\n");
}

function relativeToHere(path: string): string {
  const relativePath = relative(process.cwd(), path);
  return relativePath === "" || relativePath.startsWith("..") ? path : relativePath;
}

async function run(flags: RunFlags): Promise<number> {
  if (flags.configSchema) {
    process.stdout.write(
      `${JSON.stringify(z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }), null, 2)}\n`,
    );
    return EXIT_OK;
  }
  const { config: loaded, defaultJob } = configFromFlags(flags);
  if (flags.printConfig) {
    process.stdout.write(stringifyYaml(withPolicyDefaults(loaded)));
    return EXIT_OK;
  }
  let config = loaded;
  // The terminal keeps to progress and the summary; every log line goes to a file beside the store.
  const logFile = runLogPath(config);
  const closeLog = logToFile(logFile);
  try {
    log.info("swe-selfplay run", { args: process.argv.slice(2).join(" "), date: new Date().toISOString() });
    // No environment anywhere (no flag, none in the file): the shipped example, as the schema documents.
    if (config.environments.length === 0)
      config = { ...config, environments: [await defaultEnvironment(config)] };
    return await runConfigured(config, flags, defaultJob, relativeToHere(logFile));
  } finally {
    closeLog();
  }
}

/** The run's log file: `run.log` beside the store (`.swe-selfplay/run.log` by default), appended to on resume. */
export function runLogPath(config: SelfPlayConfig): string {
  return join(dirname(resolve(config.store)), "run.log");
}

async function runConfigured(
  config: SelfPlayConfig,
  flags: RunFlags,
  defaultJob: boolean,
  logFile: string,
): Promise<number> {
  checkEnvironmentDirectories(config.environments);
  const extras = agentExtrasFrom(flags);
  const policy = createPolicy(config.policy, extras);
  // Before any episode: what the server offers. A trainer's export from a server without token ids stays
  // empty, so --rollouts refuses to start against one unless told otherwise.
  const capabilities = await probeAndReport(policy, {
    callFormat: extras.callFormat ?? (config.policy.kind === "openai" ? config.policy.callFormat : undefined),
  });
  const untrainable = capabilities ? untrainableReason(capabilities) : null;
  if (flags.rollouts && untrainable && !flags.allowUntrainable) {
    process.stderr.write(
      `swe-selfplay: --rollouts would export no trainable samples: ${untrainable}; use a server that returns token ids (vLLM, SGLang), or pass --allow-untrainable to run anyway\n`,
    );
    return EXIT_NEGATIVE;
  }
  if (defaultJob)
    log.info("no environment configured: playing the shipped example", {
      example: DEFAULT_EXAMPLE,
      steps: config.limits.steps,
      groupSize: config.groupSize,
    });
  const controls = runControls();
  const progress =
    flags.progress === false
      ? null
      : createProgress({
          stepsTarget: config.limits.steps ?? null,
          durationMs: config.limits.durationMs ?? null,
        });
  try {
    const result = await playRun(config, flags, policy, controls, progress);
    progress?.stop();
    return report(config, flags, result, logFile);
  } finally {
    progress?.stop();
    controls.dispose();
  }
}

interface RunControls {
  interrupt: AbortSignal;
  drain: AbortSignal;
  dispose(): void;
}

/** Ctrl-C once drains (in-flight steps finish), twice aborts; SIGTERM aborts. The run can be resumed. */
function runControls(): RunControls {
  const interrupt = new AbortController();
  const drain = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(
        "\nfinishing the steps in flight; press Ctrl-C again to abort them (the run can be resumed)\n",
      );
      drain.abort();
    } else interrupt.abort();
  };
  const onSigterm = () => interrupt.abort();
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  return {
    interrupt: interrupt.signal,
    drain: drain.signal,
    dispose: () => {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
    },
  };
}

/** Runs self-play; with --rollouts every finished step is exported at once, so a trainer can consume it live. */
async function playRun(
  config: SelfPlayConfig,
  flags: RunFlags,
  policy: Policy,
  controls: RunControls,
  progress: ProgressDisplay | null,
): Promise<SelfPlayResult> {
  const store = openStore(config.store);
  let runId: RunId | null = null;
  const exportFinished = () => {
    if (flags.rollouts && runId) exportRollouts({ store, runId, outDir: resolve(flags.rollouts) });
  };
  try {
    const result = await runConfiguredSelfPlay(config, {
      policy,
      store,
      signal: controls.interrupt,
      drainSignal: controls.drain,
      newRun: flags.newRun,
      onEvent: (event) => {
        progress?.onEvent(event);
        if (event.type === "run-started") runId = event.runId as RunId;
        if (event.type === "step-finished" || event.type === "step-failed") exportFinished();
      },
    });
    exportFinished();
    return result;
  } finally {
    store.close();
  }
}

/** Prints the summary and decides the exit code. */
function report(config: SelfPlayConfig, flags: RunFlags, result: SelfPlayResult, logFile: string): number {
  if (flags.json) process.stdout.write(`${JSON.stringify(result.summary, null, 2)}\n`);
  else process.stdout.write(formatSummary(result.summary, { logFile }));
  if (result.status === "failed") {
    // One line per environment that was taken out, with its reason (which names the fix).
    for (const environment of result.summary.environments.filter((entry) => entry.status === "disabled"))
      process.stderr.write(
        `swe-selfplay: the run cannot work on environment "${environment.name}": ${environment.reason ?? "taken out"}\n`,
      );
    process.stderr.write(`swe-selfplay: details in ${logFile}\n`);
    return EXIT_ERROR;
  }
  if (flags.rollouts && result.summary.trainable.samples === 0 && !flags.allowUntrainable) {
    process.stderr.write(
      `swe-selfplay: --rollouts exported no trainable samples: ${formatTrainable(result.summary.trainable)}; pass --allow-untrainable to accept that\n`,
    );
    return EXIT_NEGATIVE;
  }
  if (!flags.json) process.stdout.write(nextSteps(config, result.summary.artifacts.valid > 0));
  return EXIT_OK;
}
