// Builds the policy a configuration names: the built-in policy, or the agent with the model client its
// inference kind needs (one table). Part of the composition root: the only place these adapters are chosen.
import { createAgentPolicy } from "../agent/index.js";
import { createBuiltinDemonstrator, createBuiltinPolicy } from "../builtin/index.js";
import type { CallFormatOption, InferenceKind, PolicyConfig } from "../config/index.js";
import {
  createModelClient,
  createServerTokenizer,
  createTitoClient,
  type ModelClientOptions,
} from "../model/index.js";
import type { ModelClient } from "../ports/model.js";
import type { Policy } from "../ports/policy.js";

/** The openai settings that are not part of the run config's policy section. */
export interface AgentExtras {
  callFormat?: CallFormatOption;
  /** Directory for one JSONL trajectory file per episode. */
  trajectoryDir?: string;
  /** Version written into episodes and samples (a trainer's policy version); default the prompt version. */
  version?: string;
}

/** The API key: SWE_SELFPLAY_API_KEY, else the variable the config names, else OPENAI_API_KEY. */
export function apiKeyFrom(config: PolicyConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (config.kind !== "openai") return undefined;
  return env.SWE_SELFPLAY_API_KEY ?? env[config.apiKeyEnv] ?? env.OPENAI_API_KEY;
}

type OpenaiPolicyConfig = Extract<PolicyConfig, { kind: "openai" }>;

/** The one place a model client is chosen: chat completions, or token-in/token-out for vLLM and SGLang. */
const MODEL_CLIENTS: Record<
  InferenceKind,
  (model: ModelClientOptions, inference: OpenaiPolicyConfig["inference"]) => ModelClient
> = {
  "openai-chat": (model) => createModelClient(model),
  vllm: (model, inference) => titoClient("vllm", model, inference),
  sglang: (model, inference) => titoClient("sglang", model, inference),
};

function titoClient(
  engine: "vllm" | "sglang",
  model: ModelClientOptions,
  inference: OpenaiPolicyConfig["inference"],
): ModelClient {
  return createTitoClient({
    ...model,
    engine,
    ...(inference.tokenizerUrl ? { tokenizerUrl: inference.tokenizerUrl } : {}),
  });
}

/** Characters of one observation a demonstration keeps (head and tail), so an episode fits a 4096-token context. */
const DEMONSTRATION_OBSERVATION_CHARS = 2_000;

export function createPolicy(
  config: PolicyConfig,
  extras: AgentExtras = {},
  env: NodeJS.ProcessEnv = process.env,
): Policy {
  const budget = config.kind !== "openai" && config.testRunBudget !== undefined;
  if (config.kind === "builtin")
    return createBuiltinPolicy(budget ? { testRunBudget: config.testRunBudget } : {});
  if (config.kind === "builtin-demo")
    return createAgentPolicy({
      demonstrator: createBuiltinDemonstrator(budget ? { testRunBudget: config.testRunBudget } : {}),
      modelName: "builtin-demo",
      // Short observations: demonstrations train small models with small contexts.
      limits: { maxTurns: 40, maxObservationChars: DEMONSTRATION_OBSERVATION_CHARS },
      trajectoryDir: extras.trajectoryDir,
      ...(extras.version === undefined ? {} : { version: extras.version }),
    });
  const model = {
    baseUrl: config.baseUrl,
    apiKey: apiKeyFrom(config, env),
    model: config.model,
    // An older file's top-level keys may be all there is (a config loaded without policyConfigFrom).
    temperature: config.temperature ?? config.sampling.temperature,
    topP: config.topP ?? config.sampling.topP,
    maxTokens: config.maxTokens ?? config.sampling.maxTokens,
    topK: config.sampling.topK,
    minP: config.sampling.minP,
    extraBody: config.sampling.extraBody,
    sendSeeds: config.sampling.seeds,
    toolChoice: config.toolChoice,
    requestTimeoutMs: config.requestTimeoutMs,
  };
  const client = MODEL_CLIENTS[config.inference.kind](model, config.inference);
  return createAgentPolicy({
    client,
    modelName: config.model,
    limits: { maxTurns: config.maxTurns, maxContextTokens: config.contextWindow },
    callFormat: extras.callFormat ?? config.callFormat,
    trajectoryDir: extras.trajectoryDir,
    ...(extras.version === undefined ? {} : { version: extras.version }),
  });
}

/** A server's chat-template renderer (`/tokenize` of vLLM's OpenAI server), for token-exact SFT lines. */
export function serverTokenizer(url: string, model?: string) {
  return createServerTokenizer({
    baseUrl: url.replace(/\/v1\/?$/, ""),
    model,
    timeoutMs: 120_000,
    retry: { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 10_000 },
  });
}
