// The run configuration: one zod schema that is also the TypeScript type. Defaults live here, every field
// is described, and every object is strict so a misspelt key is reported instead of silently ignored.
import { z } from "zod";
import { DEFAULT_ALPHA } from "../validation/rewards.js";
import { DEFAULT_THRESHOLDS } from "../validation/thresholds.js";
import { callFormatSchema, inferenceKindSchema } from "./policy-kinds.js";
import {
  checkSandboxBackends,
  environmentConfigSchema,
  sandboxBackendSchema,
  sandboxSettingsSchema,
} from "./sandbox-schema.js";
import { checkDifficulty, difficultySchema } from "./strategy-defaults.js";

export {
  directoryEnvironmentSchema,
  environmentConfigSchema,
  imageEnvironmentSchema,
  sandboxBackendSchema,
  sandboxSettingsSchema,
} from "./sandbox-schema.js";

const positiveInteger = z.number().int().positive();
const nonNegativeInteger = z.number().int().nonnegative();

export const builtinPolicySchema = z
  .strictObject({
    kind: z
      .literal("builtin")
      .describe("The offline policy: program-analysis proposer, search-based solver."),
    testRunBudget: positiveInteger.optional().describe("Test runs the repair solver may spend per attempt."),
  })
  .describe("Built-in offline policy (no model needed).");

export const builtinDemoPolicySchema = z
  .strictObject({
    kind: z
      .literal("builtin-demo")
      .describe(
        "Demonstrations: the built-in policy's repairs and artifacts replayed as tool-call episodes through the agent loop (training data for a warm start).",
      ),
    testRunBudget: positiveInteger.optional().describe("Test runs the repair search may spend per attempt."),
  })
  .describe("Built-in policy replayed as agent episodes (no model needed).");

export const samplingSchema = z
  .strictObject({
    maxTokens: positiveInteger
      .default(4096)
      .describe(
        "Completion tokens per model call (lowered near the end of the context budget); servers such as llama.cpp generate without limit when none is sent.",
      ),
    temperature: z.number().min(0).max(2).default(1).describe("Sampling temperature."),
    topP: z.number().gt(0).max(1).default(0.95).describe("Nucleus sampling top-p."),
    topK: z
      .number()
      .int()
      .min(-1)
      .optional()
      .describe("Top-k (vLLM, SGLang, llama.cpp, Ollama); not sent when absent, -1 disables it on vLLM."),
    minP: z.number().min(0).max(1).optional().describe("Min-p; not sent when absent."),
    extraBody: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "Extra fields merged into every request body, e.g. {chat_template_kwargs: {enable_thinking: false}} or {repetition_penalty: 1.05}.",
      ),
    seeds: z
      .boolean()
      .default(true)
      .describe(
        "Send each request a seed derived from its step, so a replayed step samples alike; false for servers that fail on seeded requests (vLLM 0.32's CPU backend with chunked prefill on: serve it with --no-enable-chunked-prefill, or set this to false).",
      ),
  })
  .describe(
    "Sampling settings of every model request; recorded in each rollout sample's `sampling` as sent.",
  );

export const openaiPolicySchema = z
  .strictObject({
    kind: z.literal("openai").describe("Any OpenAI-compatible chat-completions server."),
    baseUrl: z.string().url().describe("Base URL of the server, e.g. http://localhost:8000/v1."),
    model: z.string().min(1).describe("Model name sent with every request."),
    apiKeyEnv: z
      .string()
      .min(1)
      .default("OPENAI_API_KEY")
      .describe("Name of the environment variable holding the API key (the key itself is never stored)."),
    sampling: samplingSchema.prefault({}).describe("Sampling settings sent with every model request."),
    toolChoice: z
      .enum(["auto", "required", "none", "omit"])
      .default("auto")
      .describe(
        "`tool_choice` sent with the tools (native call format); `omit` sends none, for servers that refuse the field. llama.cpp's server leaves the tools out of the prompt without it.",
      ),
    temperature: z
      .number()
      .min(0)
      .max(2)
      .optional()
      .describe("Older place of sampling.temperature; when given it wins."),
    topP: z.number().gt(0).max(1).optional().describe("Older place of sampling.topP; when given it wins."),
    maxTokens: positiveInteger.optional().describe("Older place of sampling.maxTokens; when given it wins."),
    maxTurns: positiveInteger.default(64).describe("Maximum tool-calling turns per episode."),
    callFormat: callFormatSchema
      .default("native")
      .describe(
        "How the model calls tools: native tool calling (the server parses calls), hermes (<tool_call>{json}</tool_call> in the sampled text, parsed here; the format token-in/token-out episodes of Qwen-style models use), json (hermes blocks, or else {name, arguments} objects in a fenced json block or as the whole reply, as small models often write them), or <tool: NAME> blocks in text for models without tool calling.",
      ),
    inference: z
      .strictObject({
        kind: inferenceKindSchema
          .default("openai-chat")
          .describe(
            "openai-chat: /chat/completions, the server re-renders the history every turn (hosted APIs, llama.cpp); vllm: token-in/token-out through /v1/completions with token-id prompts; sglang: token-in/token-out through /generate with input_ids. Token-in/token-out stores each episode as one exact sample.",
          ),
        tokenizerUrl: z
          .string()
          .url()
          .optional()
          .describe(
            "Server root with vLLM-style /tokenize and /detokenize for the model's chat template (default: vllm: baseUrl without /v1; sglang: baseUrl).",
          ),
      })
      .default({ kind: "openai-chat" })
      .describe("Which protocol the client speaks to the inference server."),
    contextWindow: positiveInteger
      .default(32_768)
      .describe("Context budget of an episode, in tokens (up to the model's context length, e.g. 131072)."),
    requestTimeoutMs: positiveInteger.default(600_000).describe("Timeout of one model request, ms."),
  })
  .describe("A model behind an OpenAI-compatible server.");

export const policyConfigSchema = z
  .discriminatedUnion("kind", [builtinPolicySchema, builtinDemoPolicySchema, openaiPolicySchema])
  .describe("Which policy plays both roles.");

export const strategyMixSchema = z
  .strictObject({
    removal: z.number().nonnegative().default(0.5).describe("Weight of the removal strategy."),
    history: z.number().nonnegative().default(0.5).describe("Weight of the history-aware strategy."),
    direct: z
      .number()
      .nonnegative()
      .optional()
      .describe(
        "Weight of direct injection. Default: 1 for the builtin policy (its mutations give solvable bugs; its solver cannot rebuild removed code), 0 for model policies (the paper's worst strategy).",
      ),
  })
  .refine((mix) => mix.removal + mix.history + (mix.direct ?? 0) > 0, {
    message: "at least one strategy weight must be positive",
  })
  .describe("Relative weights of the bug-injection strategies; each proposer step samples one.");

// The checks' own defaults (validation/thresholds.ts), so the library and a configuration agree.
export const thresholdsSchema = z
  .strictObject({
    minPassingTests: nonNegativeInteger
      .default(DEFAULT_THRESHOLDS.minPassingTests)
      .describe("Tests the original code must pass."),
    minChangedFiles: positiveInteger
      .default(DEFAULT_THRESHOLDS.minChangedFiles)
      .describe("Files the bug must change."),
    minFailingTests: positiveInteger
      .default(DEFAULT_THRESHOLDS.minFailingTests)
      .describe("Baseline-passing tests the bug must break."),
    baselineRuns: positiveInteger
      .default(DEFAULT_THRESHOLDS.baselineRuns)
      .describe("Baseline repetitions used to detect flaky tests."),
    testTimeoutMs: positiveInteger
      .default(DEFAULT_THRESHOLDS.testTimeoutMs)
      .describe("Wall-clock limit of one test-suite run, ms."),
  })
  .describe("Thresholds of the consistency checks.");

export const limitsSchema = z
  .strictObject({
    steps: positiveInteger
      .optional()
      .describe(
        "Number of proposer steps (episodes) of the run; unbounded when neither this nor duration is set.",
      ),
    durationMs: positiveInteger
      .optional()
      .describe(
        "Wall-clock length of the run, ms; no new step starts after it and in-flight work is aborted.",
      ),
    proposerTimeoutMs: positiveInteger
      .default(1_800_000)
      .describe("Wall-clock limit of one proposer episode."),
    solverTimeoutMs: positiveInteger.default(1_800_000).describe("Wall-clock limit of one solver attempt."),
    maxEnvironmentFailures: positiveInteger
      .default(3)
      .describe("Consecutive infrastructure failures after which an environment is taken out of the run."),
    earlyStopSteps: z
      .number()
      .int()
      .min(0)
      .default(2)
      .describe(
        "When this many first steps on an environment all fail for the same environment-level reason (no test command found, the baseline does not pass), the environment is taken out of the run at once; 0 never does.",
      ),
  })
  .describe("How long the run and its episodes may last.");

export const concurrencySchema = z
  .strictObject({
    proposers: positiveInteger.default(1).describe("Proposer episodes running at once."),
    validations: positiveInteger.default(1).describe("Artifact validations running at once."),
    validationTestRuns: positiveInteger.default(2).describe("Test runs one validation may run in parallel."),
    solvers: positiveInteger.default(2).describe("Solver attempts (solve + grade) running at once."),
    sandboxes: positiveInteger
      .default(6)
      .describe(
        "Sandboxes alive at once across all stages (sandboxes a holder creates for itself, e.g. self-validation, are not held back).",
      ),
    pipelineSteps: positiveInteger
      .optional()
      .describe(
        "Proposer steps in flight at once, from proposal until their solver groups are graded; a slow later stage stops new proposals instead of queueing without bound. Default: proposers + validations + 1.",
      ),
  })
  .describe("Concurrency limits per stage.");

export const secondOrderSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Turn failed solver attempts into second-order bugs."),
    maxPerGroup: nonNegativeInteger
      .default(1)
      .describe("Second-order candidates made from one solver group."),
  })
  .describe("Second-order bugs (failed solver patches on top of a bug).");

export const strategyAdaptationSchema = z
  .strictObject({
    learnability: z
      .boolean()
      .optional()
      .describe(
        "Learnability bandit: per environment, strategy weights follow each strategy's measured share of steps whose solver group had 0 < s < 1 (the configured weights are the prior). Default: on for the builtin policy, off for model policies. A strategy that cannot apply to an environment (history without a commit to revert) gets weight 0 there either way.",
      ),
    floor: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe(
        "Least weight the bandit leaves a strategy with a positive configured weight, so none starves.",
      ),
  })
  .describe("How strategy weights adapt to each environment.");

export const duplicatesSchema = z
  .strictObject({
    semantic: z
      .enum(["skip", "penalise"])
      .default("penalise")
      .describe(
        "An artifact whose bug has the semantic key of an earlier valid one in the run (the same bug written differently): skip (not solved, like an identical artifact) or penalise (solved, but the proposer gets the duplicate reward).",
      ),
    reward: z
      .number()
      .min(-1)
      .max(1)
      .optional()
      .describe(
        "Proposer reward of a duplicate. Default: -alpha, the reward of a task that teaches nothing: a repeated bug adds no task, so it must not earn the original's reward again.",
      ),
  })
  .describe(
    "Duplicate artifacts: identical ones (same content id) are never validated or solved twice in a run.",
  );

export const serveSchema = z
  .strictObject({
    listen: z
      .string()
      .default("127.0.0.1:8780")
      .describe("HOST:PORT the service listens on; a non-loopback host needs a bearer token."),
    replicaId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/)
      .optional()
      .describe(
        "This replica's id, the prefix of its step ids. Default: generated once and kept in the store.",
      ),
    queueCapacity: positiveInteger
      .default(64)
      .describe("Steps queued or running at once; a request beyond it gets 429 with Retry-After."),
    stepsInFlight: positiveInteger
      .optional()
      .describe(
        "Steps running at once (the rest wait queued). Default: concurrency.pipelineSteps, else proposers + validations + 1.",
      ),
    maxStaleness: nonNegativeInteger
      .default(2)
      .describe(
        "A queued step whose policy_step is below the highest seen minus this is not started: it fails as stale.",
      ),
    retentionMs: positiveInteger
      .default(7 * 24 * 3_600_000)
      .describe("How long an unacknowledged result is kept after its step ended, ms (default 7 days)."),
    bodyLimitBytes: positiveInteger
      .default(1_048_576)
      .describe("Largest request body accepted, bytes; larger gets 413."),
  })
  .describe("The HTTP service (`swe-selfplay serve`).");

export const DEFAULT_STORE_PATH = ".swe-selfplay/store.db";

export const configSchema = z
  .strictObject({
    environments: z
      .array(environmentConfigSchema)
      .default([])
      .describe("Repositories to play on; empty means the shipped Python example repository."),
    policy: policyConfigSchema
      .prefault({ kind: "builtin" })
      .describe("Which policy plays both roles (default: builtin)."),
    strategies: strategyMixSchema.prefault({}).describe("Relative weights of the bug-injection strategies."),
    strategyAdaptation: strategyAdaptationSchema
      .prefault({})
      .describe("How strategy weights adapt to each environment."),
    difficulty: difficultySchema
      .default("any")
      .describe(
        "Difficulty of the built-in proposer's bugs: 1 a one-token mutation in a short function (at most 15 lines) that a hidden test calls by name, 2 any other mutation, 3 a removed if/loop block, 4 a stubbed function body, a reverted commit or a two-file bug; any: every level. Only the strategies that make the level are played (1, 2: direct; 3: removal; 4: removal, history). Every built-in artifact records its level in meta.difficulty.",
      ),
    duplicates: duplicatesSchema.prefault({}).describe("What a duplicate artifact gets."),
    groupSize: positiveInteger.default(8).describe("Solver attempts per valid artifact (G)."),
    alpha: z
      .number()
      .min(0)
      .max(1)
      .default(DEFAULT_ALPHA)
      .describe("Proposer penalty for solve rates of 0 or 1 (α)."),
    thresholds: thresholdsSchema.prefault({}).describe("Thresholds of the consistency checks."),
    limits: limitsSchema.prefault({}).describe("How long the run and its episodes may last."),
    concurrency: concurrencySchema.prefault({}).describe("Concurrency limits per stage."),
    secondOrder: secondOrderSchema
      .prefault({})
      .describe("Second-order bugs made from failed solver patches."),
    sandbox: sandboxSettingsSchema.prefault({}).describe("Resource limits applied to every sandbox."),
    sandboxBackends: z
      .array(sandboxBackendSchema)
      .optional()
      .describe("Further sandbox backends, each loaded only when an environment names it."),
    seed: nonNegativeInteger.default(0).describe("Seed of the run; step and attempt seeds derive from it."),
    store: z.string().min(1).default(DEFAULT_STORE_PATH).describe("Path of the SQLite store."),
    serve: serveSchema.prefault({}).describe("The HTTP service (`swe-selfplay serve`)."),
  })
  .superRefine((config, context) => {
    const seen = new Set<string>();
    config.environments.forEach((environment, index) => {
      if (seen.has(environment.name))
        context.addIssue({
          code: "custom",
          path: ["environments", index, "name"],
          message: `duplicate environment name "${environment.name}"`,
        });
      seen.add(environment.name);
    });
    checkSandboxBackends(config, context);
    checkDifficulty(config, context);
  })
  .describe("Configuration of a self-play run.");

/** The configuration after defaults: what every consumer gets. */
export type SelfPlayConfig = z.output<typeof configSchema>;
/** What a user may write: every field optional where a default exists. */
export type SelfPlayConfigInput = z.input<typeof configSchema>;
export type EnvironmentConfig = z.output<typeof environmentConfigSchema>;
export type PolicyConfig = z.output<typeof policyConfigSchema>;
export type OpenaiPolicyConfig = z.output<typeof openaiPolicySchema>;
export type SamplingConfig = z.output<typeof samplingSchema>;
export type ServeConfig = z.output<typeof serveSchema>;
export type StrategyMix = z.output<typeof strategyMixSchema>;
export type DifficultySetting = z.output<typeof difficultySchema>;
