// `swe-selfplay run`: reads the flags and the config file into one configuration, then plays the run. The
// composition root, self-play and the progress display load only after the inputs are read, so a bad flag
// or file is refused before they cost anything.
import { dirname, join, relative, resolve } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import {
  configSchema,
  DEFAULT_STORE_PATH,
  loadConfig,
  parseDuration,
  type SelfPlayConfig,
} from "../../config/index.js";
import { createLogger, logToFile } from "../../log.js";
import type { Policy } from "../../ports/policy.js";
import type { SelfPlayResult } from "../../selfplay/index.js";
import type { RunId } from "../../store/index.js";
import { DEFAULT_JOB, type RunFlags } from "../definitions/run.js";
import {
  checkEnvironmentDirectories,
  DEFAULT_EXAMPLE,
  defaultEnvironment,
  environmentsFrom,
} from "../environments.js";
import { probeAndReport, untrainableReason } from "../episode-progress.js";
import { EXIT_ERROR, EXIT_NEGATIVE, EXIT_OK } from "../exit-codes.js";
import { numberFlag } from "../flags.js";
import { agentExtrasFrom, modelRequested, policyConfigFrom } from "../policy-flags.js";
import type { ProgressDisplay } from "../progress.js";

const log = createLogger("run");

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
        config.policy.kind !== "openai" && config.policy.testRunBudget === undefined
          ? { ...config.policy, testRunBudget: DEFAULT_JOB.testRunBudget }
          : config.policy,
    };
  }
  return { config, defaultJob };
}

/** The configuration with the defaults that depend on the policy filled in, as the run will use them. */
export async function withPolicyDefaults(config: SelfPlayConfig): Promise<SelfPlayConfig> {
  const { configuredWeights, learnabilityEnabled } = await import("../../selfplay/index.js");
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

export async function run(flags: RunFlags): Promise<number> {
  if (flags.configSchema) {
    process.stdout.write(
      `${JSON.stringify(z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }), null, 2)}\n`,
    );
    return EXIT_OK;
  }
  const { config: loaded, defaultJob } = configFromFlags(flags);
  if (flags.printConfig) {
    process.stdout.write(stringifyYaml(await withPolicyDefaults(loaded)));
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
  const { createPolicy } = await import("../../compose/index.js");
  const { createProgress } = await import("../progress.js");
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
    return await report(config, flags, result, logFile);
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
  const { openStore, runConfiguredSelfPlay } = await import("../../compose/index.js");
  const { exportRollouts } = await import("../../selfplay/index.js");
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
async function report(
  config: SelfPlayConfig,
  flags: RunFlags,
  result: SelfPlayResult,
  logFile: string,
): Promise<number> {
  const { formatSummary, formatTrainable } = await import("../../selfplay/index.js");
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
