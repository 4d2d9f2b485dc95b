// Builds the policy a command plays with: `builtin` (default) or `openai`, from flags, then environment
// variables, then the `policy` section of a YAML config file. Shared by propose, solve and run.
import type { Command } from "commander";
import { createAgentPolicy } from "../agent/index.js";
import { createBuiltinPolicy } from "../builtin/index.js";
import { formatIssues, loadConfig, type PolicyConfig } from "../config/index.js";
import { openaiPolicySchema, type SamplingConfig } from "../config/schema.js";
import { InputError } from "../errors.js";
import { createModelClient, createTitoClient } from "../model/index.js";
import type { Policy } from "../ports/policy.js";
import { numberFlag, onOffFlag, positiveIntegerFlag } from "./flags.js";

export type CallFormatOption = "native" | "hermes" | "json" | "text";
export type InferenceKind = "openai-chat" | "vllm" | "sglang";
const INFERENCE_KINDS: readonly InferenceKind[] = ["openai-chat", "vllm", "sglang"];

/** Policy flags as commander parses them. */
export interface PolicyFlags {
  policy?: string;
  baseUrl?: string;
  model?: string;
  callFormat?: string;
  inference?: string;
  maxTurns?: string;
  contextTokens?: string;
  maxTokens?: string;
  temperature?: string;
  topP?: string;
  topK?: string;
  minP?: string;
  extraBody?: string;
  seeds?: string;
  toolChoice?: string;
  config?: string;
}

/** The openai settings that are not part of the run config's policy section. */
export interface AgentExtras {
  callFormat?: CallFormatOption;
  /** Directory for one JSONL trajectory file per episode. */
  trajectoryDir?: string;
  /** Version written into episodes and samples (a trainer's policy version); default the prompt version. */
  version?: string;
}

export function addPolicyOptions(command: Command): Command {
  return command
    .option("--policy <kind>", "builtin | openai (default: the config file's, else builtin)")
    .option(
      "--base-url <url>",
      "OpenAI-compatible server, e.g. http://localhost:8000/v1 [SWE_SELFPLAY_BASE_URL]",
    )
    .option("--model <name>", "model name sent to the server [SWE_SELFPLAY_MODEL]")
    .option(
      "--call-format <format>",
      "native (server-parsed tool calls) | hermes (<tool_call> blocks parsed here) | json (hermes, or JSON call objects as small models write them) | text (<tool: NAME> blocks) [native]",
    )
    .option(
      "--inference <kind>",
      "openai-chat (chat completions) | vllm | sglang (token-in/token-out, one exact sample per episode) [openai-chat]",
    )
    .option("--max-turns <n>", "model calls per episode")
    .option("--context-tokens <n>", "context budget of an episode, tokens [32768]")
    .option("--max-tokens <n>", "completion tokens per model call [4096]")
    .option("--temperature <x>", "sampling temperature [1]")
    .option("--top-p <x>", "nucleus sampling top-p [0.95]")
    .option("--top-k <n>", "top-k (not sent unless given)")
    .option("--min-p <x>", "min-p (not sent unless given)")
    .option(
      "--extra-body <json>",
      "JSON object merged into every request, e.g. '{\"repetition_penalty\":1.05}'",
    )
    .option(
      "--seeds <on|off>",
      "send each request a seed derived from its step: on | off (for servers that fail on seeded requests) [on]",
    )
    .option("--tool-choice <choice>", "tool_choice sent with the tools: auto | required | none | omit [auto]")
    .option("--config <file>", "YAML config file; its policy and thresholds sections apply");
}

/** Merges flags > environment variables > config file into a policy configuration. */
export function policyConfigFrom(flags: PolicyFlags, env: NodeJS.ProcessEnv = process.env): PolicyConfig {
  const fromFile = flags.config ? loadConfig({ file: flags.config }).policy : undefined;
  const kind = flags.policy ?? fromFile?.kind ?? "builtin";
  if (kind === "builtin") return fromFile?.kind === "builtin" ? fromFile : { kind: "builtin" };
  if (kind !== "openai")
    throw new InputError("bad-flag", `--policy expects builtin or openai, got "${kind}"`);
  const file = fromFile?.kind === "openai" ? fromFile : undefined;
  const baseUrl = flags.baseUrl ?? env.SWE_SELFPLAY_BASE_URL ?? file?.baseUrl;
  const model = flags.model ?? env.SWE_SELFPLAY_MODEL ?? file?.model;
  if (!baseUrl || !model)
    throw new InputError(
      "policy-incomplete",
      `the openai policy needs a server and a model: pass --base-url and --model, set SWE_SELFPLAY_BASE_URL and SWE_SELFPLAY_MODEL, or give them in the config file's policy section`,
    );
  const fileSampling = file?.sampling;
  const sampling: Partial<SamplingConfig> = {
    ...fileSampling,
    // The older top-level keys win over the sampling section when a file gives them.
    ...(file?.temperature === undefined ? {} : { temperature: file.temperature }),
    ...(file?.topP === undefined ? {} : { topP: file.topP }),
    ...(file?.maxTokens === undefined ? {} : { maxTokens: file.maxTokens }),
    ...defined({
      maxTokens: positiveIntegerFlag(flags.maxTokens, "--max-tokens"),
      temperature: numberFlag(flags.temperature, "--temperature"),
      topP: numberFlag(flags.topP, "--top-p"),
      topK: numberFlag(flags.topK, "--top-k"),
      minP: numberFlag(flags.minP, "--min-p"),
      extraBody: extraBodyFrom(flags.extraBody),
      seeds: onOffFlag(flags.seeds, "--seeds"),
    }),
  };
  // Only what a layer gives: the schema fills in every default.
  const inferenceKind = inferenceFrom(flags) ?? file?.inference.kind;
  const parsed = openaiPolicySchema.safeParse({
    kind: "openai",
    baseUrl,
    model,
    sampling,
    ...defined({
      apiKeyEnv: file?.apiKeyEnv,
      toolChoice: flags.toolChoice ?? file?.toolChoice,
      maxTurns: positiveIntegerFlag(flags.maxTurns, "--max-turns") ?? file?.maxTurns,
      callFormat: callFormatFrom(flags) ?? file?.callFormat,
      inference:
        file?.inference || inferenceKind ? defined({ ...file?.inference, kind: inferenceKind }) : undefined,
      contextWindow: positiveIntegerFlag(flags.contextTokens, "--context-tokens") ?? file?.contextWindow,
      requestTimeoutMs: file?.requestTimeoutMs,
    }),
  });
  if (!parsed.success)
    throw new InputError("bad-flag", `the openai policy settings are invalid: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

function defined<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function extraBodyFrom(value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InputError(
      "bad-flag",
      `--extra-body expects a JSON object, got "${value}": ${(error as Error).message}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new InputError("bad-flag", `--extra-body expects a JSON object, got "${value}"`);
  return parsed as Record<string, unknown>;
}

function callFormatFrom(flags: PolicyFlags): CallFormatOption | undefined {
  const format = flags.callFormat;
  if (format === undefined) return undefined;
  if (format !== "native" && format !== "hermes" && format !== "json" && format !== "text")
    throw new InputError("bad-flag", `--call-format expects native, hermes, json or text, got "${format}"`);
  return format;
}

function inferenceFrom(flags: PolicyFlags): InferenceKind | undefined {
  const kind = flags.inference;
  if (kind === undefined) return undefined;
  if (!(INFERENCE_KINDS as readonly string[]).includes(kind))
    throw new InputError("bad-flag", `--inference expects ${INFERENCE_KINDS.join(", ")}, got "${kind}"`);
  return kind as InferenceKind;
}

/** Settings of the agent that are not part of the policy configuration; a --call-format flag wins over the file. */
export function agentExtrasFrom(flags: PolicyFlags): AgentExtras {
  const callFormat = callFormatFrom(flags);
  return callFormat === undefined ? {} : { callFormat };
}

/** The API key: SWE_SELFPLAY_API_KEY, else the variable the config names, else OPENAI_API_KEY. */
export function apiKeyFrom(config: PolicyConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (config.kind !== "openai") return undefined;
  return env.SWE_SELFPLAY_API_KEY ?? env[config.apiKeyEnv] ?? env.OPENAI_API_KEY;
}

export function createPolicy(
  config: PolicyConfig,
  extras: AgentExtras = {},
  env: NodeJS.ProcessEnv = process.env,
): Policy {
  if (config.kind === "builtin")
    return createBuiltinPolicy(
      config.testRunBudget === undefined ? {} : { testRunBudget: config.testRunBudget },
    );
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
  const inference = config.inference;
  // The one place a model client is chosen: chat completions, or token-in/token-out for vLLM and SGLang.
  const client =
    inference.kind === "openai-chat"
      ? createModelClient(model)
      : createTitoClient({
          ...model,
          engine: inference.kind,
          ...(inference.tokenizerUrl ? { tokenizerUrl: inference.tokenizerUrl } : {}),
        });
  return createAgentPolicy({
    client,
    modelName: config.model,
    limits: { maxTurns: config.maxTurns, maxContextTokens: config.contextWindow },
    callFormat: extras.callFormat ?? config.callFormat,
    trajectoryDir: extras.trajectoryDir,
    ...(extras.version === undefined ? {} : { version: extras.version }),
  });
}
