// The composition root: the one place that picks adapters (SQLite store, sandbox backends, policies) for
// what a configuration names, and hands them to the self-play code, which sees only ports.
import { codeModelTestLocator } from "../builtin/index.js";
import {
  formatIssues,
  mergeLayers,
  type PolicyConfig,
  SERVICE_CALL_FORMATS,
  type SelfPlayConfig,
} from "../config/index.js";
import { openaiPolicySchema } from "../config/schema.js";
import { InputError } from "../errors.js";
import {
  type EvaluationDeps,
  type EvaluationRequest,
  type EvaluationResult,
  runEvaluation,
} from "../eval/index.js";
import { createLogger } from "../log.js";
import type { Policy } from "../ports/policy.js";
import { RESOURCE_KINDS, type SandboxBackend } from "../ports/sandbox.js";
import { type OpenSandboxesOptions, openSandboxes, type SandboxRouter } from "../sandbox/index.js";
import { type RunSelfPlayOptions, runSelfPlay, type SelfPlayResult } from "../selfplay/index.js";
import type { PolicyChoice } from "../serve/index.js";
import { openSqliteStore, openStore, type SqliteStore, type Store } from "../store/index.js";
import { createValidator, type Validator, type ValidatorOptions } from "../validation/index.js";
import { createPolicy } from "./policy.js";

export { type AgentExtras, apiKeyFrom, createPolicy, serverTokenizer } from "./policy.js";
export { codeModelTestLocator, openSqliteStore, openStore };

export interface ConfiguredRunOptions extends Omit<RunSelfPlayOptions, "store" | "sandboxes" | "policy"> {
  /** Default: opens config.store (and closes it at the end). */
  store?: Store;
  /** Default: openConfiguredSandboxes(config); closed at the end. */
  sandboxes?: SandboxBackend;
  /** Default: the policy config.policy names. */
  policy?: Policy;
}

/**
 * Every command's sandboxes: the router with the built-in backends (directories → local, images → Docker,
 * unless an environment names another) and those the configuration declares under sandboxBackends.
 */
export function openConfiguredSandboxes(
  config?: Pick<SelfPlayConfig, "sandboxBackends">,
  options: Omit<OpenSandboxesOptions, "configured"> = {},
): SandboxRouter {
  return openSandboxes({ ...options, configured: config?.sandboxBackends });
}

/** The commands' validator: every check, with the code model reading which tests a weakening edits. */
export function configuredValidator(options: Omit<ValidatorOptions, "testLocator">): Validator {
  return createValidator({ ...options, testLocator: codeModelTestLocator });
}

/** Runs self-play with the adapters the configuration names, for whatever the caller did not pass. */
export async function runConfiguredSelfPlay(
  config: SelfPlayConfig,
  options: ConfiguredRunOptions = {},
): Promise<SelfPlayResult> {
  const policy = options.policy ?? createPolicy(config.policy);
  const store = options.store ?? openStore(config.store);
  const sandboxes = options.sandboxes ?? openConfiguredSandboxes(config);
  try {
    const testLocator = options.testLocator ?? codeModelTestLocator;
    return await runSelfPlay(config, { ...options, policy, store, sandboxes, testLocator });
  } finally {
    if (!options.sandboxes) {
      await sandboxes.close();
      warnOfLeftovers(sandboxes);
    }
    if (!options.store) store.close();
  }
}

/** Says what the sandboxes still hold after they were closed (by their own account): each is a leak. */
export function warnOfLeftovers(sandboxes: SandboxBackend): void {
  const held = sandboxes.resources?.();
  if (!held) return;
  const left = RESOURCE_KINDS.filter((kind) => held[kind] > 0);
  if (left.length > 0)
    createLogger("sandbox").warn(
      "sandbox resources still held after close",
      Object.fromEntries(left.map((kind) => [kind, held[kind]])),
    );
}

/** Runs an evaluation with the store and policy given and the sandboxes the environments need. */
export async function runConfiguredEvaluation(
  config: SelfPlayConfig,
  parts: {
    store: SqliteStore;
    policy: Policy;
    signal?: AbortSignal;
    sandboxes?: SandboxBackend;
    onEvent?: EvaluationDeps["onEvent"];
  },
  request: EvaluationRequest,
): Promise<EvaluationResult> {
  const sandboxes = parts.sandboxes ?? openConfiguredSandboxes(config);
  try {
    return await runEvaluation({ config, ...parts, sandboxes, testLocator: codeModelTestLocator }, request);
  } finally {
    if (!parts.sandboxes) await sandboxes.close();
  }
}

/**
 * The service's policy configuration for one role of one step: the built-in policy, or the agent against the
 * inference server the request names, the request's settings layered over the configuration's.
 */
export function servicePolicyConfig(config: SelfPlayConfig, choice: PolicyChoice): PolicyConfig {
  const base = config.policy;
  if (choice.inference.kind === "builtin") return base.kind === "builtin" ? base : { kind: "builtin" };
  const { inference, sampling } = choice;
  const file = base.kind === "openai" ? base : undefined;
  // What the service's configuration gives a model policy; the request names the server, model and format.
  const configured = file && {
    sampling: file.sampling,
    apiKeyEnv: file.apiKeyEnv,
    toolChoice: file.toolChoice,
    maxTurns: file.maxTurns,
    contextWindow: file.contextWindow,
    requestTimeoutMs: file.requestTimeoutMs,
  };
  const request = {
    kind: "openai",
    baseUrl: inference.base_url,
    model: inference.model,
    sampling: {
      maxTokens: sampling?.max_tokens,
      temperature: sampling?.temperature,
      topP: sampling?.top_p,
      topK: sampling?.top_k,
      minP: sampling?.min_p,
    },
    callFormat: inference.tool_call_format ?? SERVICE_CALL_FORMATS[inference.kind],
    inference: { kind: inference.kind },
    apiKeyEnv: inference.api_key_env,
  };
  // The schema fills in every default.
  const parsed = openaiPolicySchema.safeParse(mergeLayers(configured, request));
  if (!parsed.success)
    throw new InputError(
      "bad-inference",
      `the ${choice.role}'s inference settings are invalid: ${formatIssues(parsed.error)}`,
    );
  return parsed.data;
}

/** The service's policy for one role of one step (servicePolicyConfig's), recording the request's version. */
export function servicePolicy(config: SelfPlayConfig, choice: PolicyChoice): Policy {
  const policyConfig = servicePolicyConfig(config, choice);
  return policyConfig.kind === "builtin"
    ? createPolicy(policyConfig)
    : createPolicy(policyConfig, { version: choice.policyVersion });
}
