// The inference protocols and the tool-call formats of a model policy, declared once: the config schema,
// the service's request schema and the CLI's flags all take them from here.
import { z } from "zod";

/** openai-chat: chat completions; vllm, sglang: token-in/token-out. */
export const INFERENCE_KINDS = ["openai-chat", "vllm", "sglang"] as const;
export type InferenceKind = (typeof INFERENCE_KINDS)[number];
export const inferenceKindSchema = z.enum(INFERENCE_KINDS);

/** native: the server parses tool calls; the others are written into the sampled text and parsed here. */
export const CALL_FORMATS = ["native", "hermes", "json", "text"] as const;
export type CallFormatOption = (typeof CALL_FORMATS)[number];
export const callFormatSchema = z.enum(CALL_FORMATS);
