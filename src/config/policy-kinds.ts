// The policy kinds, the inference protocols and the tool-call formats of a model policy, declared once: the
// config schema, the service's request schema and the CLI's flags all take them from here.
import { z } from "zod";

/** builtin: offline search; builtin-demo: its plans replayed as tool-call episodes; openai: a model server. */
export const POLICY_KINDS = ["builtin", "builtin-demo", "openai"] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** Kinds whose proposer and solver are the built-in search (directly or replayed): no model, direct bugs lead. */
export function searchesBuiltin(kind: string): boolean {
  return kind === "builtin" || kind === "builtin-demo";
}

/** openai-chat: chat completions; vllm, sglang: token-in/token-out. */
export const INFERENCE_KINDS = ["openai-chat", "vllm", "sglang"] as const;
export type InferenceKind = (typeof INFERENCE_KINDS)[number];
export const inferenceKindSchema = z.enum(INFERENCE_KINDS);

/** native: the server parses tool calls; the others are written into the sampled text and parsed here. */
export const CALL_FORMATS = ["native", "hermes", "json", "text"] as const;
export type CallFormatOption = (typeof CALL_FORMATS)[number];
export const callFormatSchema = z.enum(CALL_FORMATS);

/**
 * The call format a service request gets when it names none: the server parses calls over chat completions;
 * token-in/token-out episodes parse hermes blocks from the sampled text.
 */
export const SERVICE_CALL_FORMATS: Readonly<Record<InferenceKind, CallFormatOption>> = {
  "openai-chat": "native",
  vllm: "hermes",
  sglang: "hermes",
};
