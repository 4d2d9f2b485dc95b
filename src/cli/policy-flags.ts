// The policy flags every playing command shares, and the policy configuration they give: `builtin` (default),
// `builtin-demo` (the built-in policy replayed as tool-call episodes) or `openai`, from flags, then environment
// variables, then the `policy` section of a YAML config file.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import type { AgentExtras } from "../compose/policy.js";
import {
  CALL_FORMATS,
  type CallFormatOption,
  formatIssues,
  INFERENCE_KINDS,
  type InferenceKind,
  loadConfig,
  mergeLayers,
  modelPolicyDefault,
  POLICY_KINDS,
  type PolicyConfig,
  type PolicyKind,
} from "../config/index.js";
import { openaiPolicySchema } from "../config/schema.js";
import { InputError } from "../errors.js";
import { numberFlag, onOffFlag, positiveIntegerFlag } from "./flags.js";

export type { CallFormatOption, InferenceKind } from "../config/index.js";

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

export function addPolicyOptions(
  command: Command,
  configHelp = "YAML config file; its policy and thresholds sections apply",
): Command {
  return command
    .option(
      "--policy <kind>",
      "builtin | builtin-demo (the builtin policy replayed as tool-call episodes: demonstrations) | openai (default: the config file's, else openai when a model flag or SWE_SELFPLAY_BASE_URL/_MODEL is given, else builtin)",
    )
    .option(
      "--base-url <url>",
      "OpenAI-compatible server, e.g. http://localhost:8000/v1 [SWE_SELFPLAY_BASE_URL]",
    )
    .option("--model <name>", "model name sent to the server [SWE_SELFPLAY_MODEL]")
    .option(
      "--call-format <format>",
      `native (server-parsed tool calls) | hermes (<tool_call> blocks parsed here) | json (hermes, or JSON call objects as small models write them) | text (<tool: NAME> blocks) [${modelPolicyDefault("callFormat")}]`,
    )
    .option(
      "--inference <kind>",
      `openai-chat (chat completions) | vllm | sglang (token-in/token-out, one exact sample per episode) [${modelPolicyDefault("inference.kind")}]`,
    )
    .option("--max-turns <n>", `model calls per episode [${modelPolicyDefault("maxTurns")}]`)
    .option(
      "--context-tokens <n>",
      `context budget of an episode, tokens [${modelPolicyDefault("contextWindow")}]`,
    )
    .option(
      "--max-tokens <n>",
      `completion tokens per model call [${modelPolicyDefault("sampling.maxTokens")}]`,
    )
    .option("--temperature <x>", `sampling temperature [${modelPolicyDefault("sampling.temperature")}]`)
    .option("--top-p <x>", `nucleus sampling top-p [${modelPolicyDefault("sampling.topP")}]`)
    .option("--top-k <n>", "top-k (not sent unless given)")
    .option("--min-p <x>", "min-p (not sent unless given)")
    .option(
      "--extra-body <json>",
      "JSON object merged into every request, e.g. '{\"repetition_penalty\":1.05}'",
    )
    .option(
      "--seeds <on|off>",
      `send each request a seed derived from its step: on | off (for servers that fail on seeded requests) [${modelPolicyDefault("sampling.seeds") ? "on" : "off"}]`,
    )
    .option(
      "--tool-choice <choice>",
      `tool_choice sent with the tools: auto | required | none | omit [${modelPolicyDefault("toolChoice")}]`,
    )
    .option("--config <file>", configHelp);
}

/** The flags that only a model policy reads, by their property and their name on the command line. */
export const MODEL_FLAGS = {
  baseUrl: "--base-url",
  model: "--model",
  callFormat: "--call-format",
  inference: "--inference",
  maxTurns: "--max-turns",
  contextTokens: "--context-tokens",
  maxTokens: "--max-tokens",
  temperature: "--temperature",
  topP: "--top-p",
  topK: "--top-k",
  minP: "--min-p",
  extraBody: "--extra-body",
  seeds: "--seeds",
  toolChoice: "--tool-choice",
} as const satisfies Record<string, string>;

/** The environment variables that name a model server. */
const MODEL_ENV = ["SWE_SELFPLAY_BASE_URL", "SWE_SELFPLAY_MODEL"] as const;

/** Whether flags or the environment say anything about a model: then the policy is (or must be) openai. */
export function modelRequested(flags: PolicyFlags, env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    Object.keys(MODEL_FLAGS).some((key) => flags[key as keyof typeof MODEL_FLAGS] !== undefined) ||
    MODEL_ENV.some((name) => (env[name] ?? "") !== "")
  );
}

/** Checks every model flag's value, whatever the policy, so a bad value is never silently ignored. */
function checkModelFlags(flags: PolicyFlags): void {
  positiveIntegerFlag(flags.maxTokens, "--max-tokens");
  positiveIntegerFlag(flags.maxTurns, "--max-turns");
  positiveIntegerFlag(flags.contextTokens, "--context-tokens");
  numberFlag(flags.temperature, "--temperature");
  numberFlag(flags.topP, "--top-p");
  numberFlag(flags.topK, "--top-k");
  numberFlag(flags.minP, "--min-p");
  extraBodyFrom(flags.extraBody);
  onOffFlag(flags.seeds, "--seeds");
  callFormatFrom(flags);
  inferenceFrom(flags);
  if (flags.toolChoice !== undefined && !["auto", "required", "none", "omit"].includes(flags.toolChoice))
    throw new InputError(
      "bad-flag",
      `--tool-choice expects auto, required, none or omit, got "${flags.toolChoice}"`,
    );
}

/**
 * Which policy plays: --policy, else the config file's, else openai when a model flag or
 * SWE_SELFPLAY_BASE_URL/_MODEL is given, else builtin. Model flags with the builtin policy are refused, never
 * ignored: a user who passes --model means to measure that model.
 */
function policyKind(flags: PolicyFlags, fileKind: string | undefined, env: NodeJS.ProcessEnv): PolicyKind {
  const kind = flags.policy ?? fileKind ?? (modelRequested(flags, env) ? "openai" : "builtin");
  if (!(POLICY_KINDS as readonly string[]).includes(kind))
    throw new InputError("bad-flag", `--policy expects ${POLICY_KINDS.join(", ")}, got "${kind}"`);
  const given = Object.entries(MODEL_FLAGS)
    .filter(([key]) => flags[key as keyof typeof MODEL_FLAGS] !== undefined)
    .map(([, flag]) => flag);
  if (kind !== "openai" && given.length > 0) {
    const source = flags.policy ? `--policy ${kind}` : `the config file's policy.kind: ${kind}`;
    throw new InputError(
      "policy-conflict",
      `${given.join(", ")} ${given.length === 1 ? "is a model setting" : "are model settings"}, but ${source} plays without a model: pass --policy openai (with --base-url and --model) to use a model, or drop ${given.length === 1 ? "it" : "them"}`,
    );
  }
  return kind as PolicyKind;
}

/** The policy kind a config file writes out (loadConfig fills in builtin when it names none). */
function policyKindWritten(file: string): string | undefined {
  const raw = parseYaml(readFileSync(file, "utf8")) as { policy?: { kind?: unknown } } | null;
  const kind = raw?.policy?.kind;
  return typeof kind === "string" ? kind : undefined;
}

/** Why the openai policy plays when nothing chose it outright: the model flags or variables given. */
function selectedBy(flags: PolicyFlags, fileKind: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flags.policy || fileKind === "openai") return "";
  const given = [
    ...Object.entries(MODEL_FLAGS)
      .filter(([key]) => flags[key as keyof typeof MODEL_FLAGS] !== undefined)
      .map(([, flag]) => flag),
    ...MODEL_ENV.filter((name) => (env[name] ?? "") !== ""),
  ];
  return ` (chosen by ${given.join(", ")})`;
}

/** Merges flags > environment variables > config file into a policy configuration. */
export function policyConfigFrom(flags: PolicyFlags, env: NodeJS.ProcessEnv = process.env): PolicyConfig {
  checkModelFlags(flags);
  const fromFile = flags.config ? loadConfig({ file: flags.config }).policy : undefined;
  const kind = policyKind(flags, flags.config ? policyKindWritten(flags.config) : undefined, env);
  if (kind !== "openai") return fromFile?.kind === kind ? fromFile : { kind };
  const file = fromFile?.kind === "openai" ? fromFile : undefined;
  const baseUrl = flags.baseUrl ?? env.SWE_SELFPLAY_BASE_URL ?? file?.baseUrl;
  const model = flags.model ?? env.SWE_SELFPLAY_MODEL ?? file?.model;
  if (!baseUrl || !model)
    throw new InputError(
      "policy-incomplete",
      `the openai policy${selectedBy(flags, fromFile?.kind, env)} needs a server and a model: pass --base-url and --model, set SWE_SELFPLAY_BASE_URL and SWE_SELFPLAY_MODEL, or give them in the config file's policy section`,
    );
  // The file's section (its older top-level sampling keys moved where they now live), then the environment,
  // then the flags; the schema fills in every default.
  const fileLayer = file && {
    ...file,
    temperature: undefined,
    topP: undefined,
    maxTokens: undefined,
    sampling: mergeLayers(file.sampling, {
      temperature: file.temperature,
      topP: file.topP,
      maxTokens: file.maxTokens,
    }),
  };
  const flagsLayer = {
    baseUrl: flags.baseUrl,
    model: flags.model,
    toolChoice: flags.toolChoice,
    maxTurns: positiveIntegerFlag(flags.maxTurns, "--max-turns"),
    callFormat: callFormatFrom(flags),
    inference: { kind: inferenceFrom(flags) },
    contextWindow: positiveIntegerFlag(flags.contextTokens, "--context-tokens"),
    sampling: {
      maxTokens: positiveIntegerFlag(flags.maxTokens, "--max-tokens"),
      temperature: numberFlag(flags.temperature, "--temperature"),
      topP: numberFlag(flags.topP, "--top-p"),
      topK: numberFlag(flags.topK, "--top-k"),
      minP: numberFlag(flags.minP, "--min-p"),
      extraBody: extraBodyFrom(flags.extraBody),
      seeds: onOffFlag(flags.seeds, "--seeds"),
    },
  };
  const parsed = openaiPolicySchema.safeParse(
    mergeLayers(
      fileLayer,
      { baseUrl: env.SWE_SELFPLAY_BASE_URL, model: env.SWE_SELFPLAY_MODEL },
      flagsLayer,
      { kind: "openai" },
    ),
  );
  if (!parsed.success)
    throw new InputError("bad-flag", `the openai policy settings are invalid: ${formatIssues(parsed.error)}`);
  return parsed.data;
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
  if (!(CALL_FORMATS as readonly string[]).includes(format))
    throw new InputError(
      "bad-flag",
      `--call-format expects ${CALL_FORMATS.slice(0, -1).join(", ")} or ${CALL_FORMATS.at(-1)}, got "${format}"`,
    );
  return format as CallFormatOption;
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
