// The two token-in/token-out wire protocols: vLLM's `/v1/completions` with a token-id prompt, and SGLang's
// `/generate` with `input_ids`. Each builds a request from token ids and reads the sampled ids, their
// logprobs and the text back, or says what the reply lacks.
import { isTokenList } from "./server-tokenizer.js";

export type EngineKind = "vllm" | "sglang";

export interface GenerateRequest {
  model: string;
  promptTokenIds: readonly number[];
  maxTokens: number;
  temperature: number;
  topP: number;
  topK?: number;
  minP?: number;
  stopTokenIds: readonly number[];
  seed?: number;
  extraBody?: Record<string, unknown>;
}

export interface GenerateReply {
  tokenIds: number[];
  logprobs: number[];
  text: string;
  /** "stop" (an end token or stop string) or "length" (the token cap), or the server's own word. */
  finishReason: string;
  /** The model or adapter the server names; absent when the protocol does not say. */
  model?: string;
}

export interface Engine {
  readonly kind: EngineKind;
  /** The generation endpoint under the configured base URL. */
  path: string;
  body(request: GenerateRequest): Record<string, unknown>;
  /** The reply, or what is missing from it, in words. */
  read(parsed: Record<string, unknown>): GenerateReply | string;
}

const vllm: Engine = {
  kind: "vllm",
  path: "/completions",
  body: (request) => ({
    model: request.model,
    prompt: request.promptTokenIds,
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    top_p: request.topP,
    ...(request.topK === undefined ? {} : { top_k: request.topK }),
    ...(request.minP === undefined ? {} : { min_p: request.minP }),
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    stop_token_ids: request.stopTokenIds,
    logprobs: 0,
    return_token_ids: true,
    ...request.extraBody,
  }),
  read(parsed) {
    const choice = Array.isArray(parsed.choices)
      ? (parsed.choices[0] as Record<string, unknown> | undefined)
      : undefined;
    if (!choice) return "no choices[0]";
    const tokenIds = choice.token_ids;
    if (!isTokenList(tokenIds)) return "no choices[0].token_ids (vLLM needs return_token_ids, from 0.10.2)";
    const logprobs = (choice.logprobs as { token_logprobs?: unknown } | null | undefined)?.token_logprobs;
    const problem = logprobProblem(logprobs, tokenIds.length, "choices[0].logprobs.token_logprobs");
    if (problem) return problem;
    return {
      tokenIds,
      logprobs: logprobs as number[],
      text: typeof choice.text === "string" ? choice.text : "",
      finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : "stop",
      ...(typeof parsed.model === "string" ? { model: parsed.model } : {}),
    };
  },
};

const sglang: Engine = {
  kind: "sglang",
  path: "/generate",
  body: (request) => ({
    input_ids: request.promptTokenIds,
    sampling_params: {
      max_new_tokens: request.maxTokens,
      temperature: request.temperature,
      top_p: request.topP,
      ...(request.topK === undefined ? {} : { top_k: request.topK }),
      ...(request.minP === undefined ? {} : { min_p: request.minP }),
      stop_token_ids: request.stopTokenIds,
      ...(request.seed === undefined ? {} : { sampling_seed: request.seed }),
    },
    return_logprob: true,
    stream: false,
    ...request.extraBody,
  }),
  read(parsed) {
    const meta = parsed.meta_info as Record<string, unknown> | undefined;
    if (!meta || typeof meta !== "object") return "no meta_info";
    const entries = meta.output_token_logprobs;
    if (!Array.isArray(entries)) return "no meta_info.output_token_logprobs (send return_logprob: true)";
    const tokenIds: number[] = [];
    const logprobs: number[] = [];
    for (const entry of entries) {
      if (!Array.isArray(entry) || !Number.isInteger(entry[1]))
        return "an output_token_logprobs entry that is not [logprob, token_id, text]";
      logprobs.push(Number(entry[0]));
      tokenIds.push(entry[1] as number);
    }
    const problem = logprobProblem(logprobs, tokenIds.length, "meta_info.output_token_logprobs");
    if (problem) return problem;
    if (isTokenList(parsed.output_ids) && parsed.output_ids.join() !== tokenIds.join())
      return "output_ids that differ from the token ids of output_token_logprobs";
    const finish = meta.finish_reason as { type?: unknown } | string | null | undefined;
    const finishReason =
      typeof finish === "string" ? finish : typeof finish?.type === "string" ? finish.type : "stop";
    return { tokenIds, logprobs, text: typeof parsed.text === "string" ? parsed.text : "", finishReason };
  },
};

function logprobProblem(logprobs: unknown, count: number, where: string): string | null {
  if (!Array.isArray(logprobs)) return `no ${where} (ask for logprobs)`;
  if (logprobs.length !== count) return `${logprobs.length} logprobs in ${where} for ${count} sampled tokens`;
  if (logprobs.some((value) => typeof value !== "number" || !Number.isFinite(value) || value > 0))
    return `a value in ${where} that is not a finite logprob`;
  return null;
}

export function engineNamed(kind: EngineKind): Engine {
  return kind === "vllm" ? vllm : sglang;
}
