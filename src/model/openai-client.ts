// OpenAI-compatible chat-completions client: bounded retries with backoff, and the exact token ids and
// logprobs that vLLM / SGLang report when asked (`return_token_ids`, `logprobs`).

import { InfrastructureError } from "../errors.js";
import { createLogger } from "../log.js";
import type {
  Completion,
  CompletionRequest,
  CompletionResult,
  ModelClient,
  TokenTrace,
  ToolCall,
} from "../ports/model.js";
import type { SamplingSettings } from "../ports/rollout.js";
import { CONTEXT_OVERFLOW, errorDetail, type HttpAttempt, postJson, sleep } from "./http.js";
import { toWireMessage, toWireTool } from "./wire.js";

export interface ModelClientOptions {
  /** Base URL including the API version path, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  temperature?: number;
  topP?: number;
  /** Completion token cap per call; the server's default when absent. */
  maxTokens?: number;
  /** Per-request wall-clock limit; a request that takes longer is retried. */
  requestTimeoutMs?: number;
  /** Retries after the first attempt for 429, 5xx, timeouts and dropped connections. */
  maxRetries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Ask for token ids and logprobs (vLLM/SGLang extensions); turned off by itself if the server refuses it. */
  requestTokenIds?: boolean;
  /** Extra fields merged into every request body (e.g. `chat_template_kwargs`). */
  extraBody?: Record<string, unknown>;
}

export const DEFAULT_SAMPLING = { temperature: 1.0, topP: 0.95 } as const;
const DEFAULT_TIMEOUT_MS = 600_000;
const DEFAULT_RETRIES = 5;

interface WireToolCall {
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

export function createModelClient(options: ModelClientOptions): ModelClient {
  const log = createLogger("model");
  const url = `${options.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const sampling: SamplingSettings = {
    model: options.model,
    temperature: options.temperature ?? DEFAULT_SAMPLING.temperature,
    top_p: options.topP ?? DEFAULT_SAMPLING.topP,
    ...(options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens }),
  };
  let requestTokenIds = options.requestTokenIds ?? true;
  let warnedMissingTokens = false;

  function body(request: CompletionRequest): string {
    const maxTokens = request.maxTokens ?? options.maxTokens;
    return JSON.stringify({
      model: options.model,
      messages: request.messages.map(toWireMessage),
      temperature: sampling.temperature,
      top_p: sampling.top_p,
      ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.tools && request.tools.length > 0 ? { tools: request.tools.map(toWireTool) } : {}),
      ...(requestTokenIds ? { logprobs: true, return_token_ids: true } : {}),
      ...options.extraBody,
    });
  }

  function attempt(request: CompletionRequest): Promise<HttpAttempt> {
    return postJson(url, body(request), {
      timeoutMs: options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      abortSignal: request.abortSignal,
    });
  }

  async function complete(request: CompletionRequest): Promise<CompletionResult> {
    const maxRetries = options.maxRetries ?? DEFAULT_RETRIES;
    let failures = 0;
    for (;;) {
      const started = performance.now();
      const result = await attempt(request);
      let transient: string;
      if (result.kind === "network") transient = result.message;
      else if (result.status === 429 || result.status >= 500 || result.status === 408)
        transient = `HTTP ${result.status}: ${result.body.slice(0, 300)}`;
      else if (result.status >= 400) {
        const detail = errorDetail(result.body);
        if (CONTEXT_OVERFLOW.test(detail)) return { status: "context-overflow", message: detail };
        if (requestTokenIds && /return_token_ids|logprobs/.test(detail)) {
          log.warn("server refuses token id / logprob fields; continuing without them", { url });
          requestTokenIds = false;
          continue;
        }
        throw new InfrastructureError(
          "model-request-rejected",
          `model server at ${url} rejected the request with HTTP ${result.status}: ${detail} ` +
            `(check --base-url, --model and the API key)`,
          { data: { url, status: result.status, body: result.body.slice(0, 2000) } },
        );
      } else {
        const { completion, tokenProblem } = parseCompletion(result.body, url, performance.now() - started);
        if (requestTokenIds && tokenProblem !== null && !warnedMissingTokens) {
          warnedMissingTokens = true;
          log.warn("server returned no usable token ids/logprobs; turns without them get no rollout tokens", {
            url,
            problem: tokenProblem,
          });
        }
        return { status: "ok", completion };
      }
      failures++;
      if (failures > maxRetries)
        throw new InfrastructureError(
          "model-unreachable",
          `model server at ${url} failed ${failures} times, last: ${transient} (is the server up?)`,
          { data: { url, attempts: failures } },
        );
      const base = options.retryBaseDelayMs ?? 500;
      const backoff = Math.min(options.retryMaxDelayMs ?? 30_000, base * 2 ** (failures - 1));
      const retryAfterMs = result.kind === "response" ? result.retryAfterMs : null;
      const delay = Math.min(
        options.retryMaxDelayMs ?? 30_000,
        retryAfterMs ?? backoff * (0.5 + Math.random() / 2),
      );
      log.warn("model request failed; retrying", {
        url,
        attempt: failures,
        delayMs: Math.round(delay),
        transient,
      });
      await sleep(delay, request.abortSignal);
    }
  }

  return { sampling, tokenSource: "chat", complete };
}

function isTokenList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => Number.isInteger(item));
}

/**
 * Reads vLLM (`prompt_token_ids` on the response) and SGLang (`prompt_token_ids` on the choice) shapes.
 * Returns why there is no usable trace instead, so the warning can say what the server sent.
 */
function parseTokens(
  response: Record<string, unknown>,
  choice: Record<string, unknown>,
): TokenTrace | string {
  const promptTokenIds = response.prompt_token_ids ?? choice.prompt_token_ids;
  const completionTokenIds = choice.token_ids;
  const content = (choice.logprobs as { content?: unknown } | null | undefined)?.content;
  if (!isTokenList(promptTokenIds)) return "no prompt_token_ids";
  if (!isTokenList(completionTokenIds)) return "no choices[0].token_ids";
  if (!Array.isArray(content)) return "no choices[0].logprobs.content";
  const logprobs = content.map((entry) => Number((entry as { logprob?: unknown }).logprob));
  if (logprobs.length !== completionTokenIds.length)
    return `${logprobs.length} logprobs for ${completionTokenIds.length} sampled token ids`;
  if (logprobs.some((value) => !Number.isFinite(value))) return "a logprob is not a finite number";
  return {
    promptTokenIds,
    completionTokenIds,
    logprobs,
    ...(typeof response.model === "string" ? { model: response.model } : {}),
  };
}

function parseCompletion(
  text: string,
  url: string,
  durationMs: number,
): { completion: Completion; tokenProblem: string | null } {
  let response: Record<string, unknown>;
  try {
    response = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new InfrastructureError(
      "model-bad-response",
      `model server at ${url} answered with non-JSON: ${text.slice(0, 200)}`,
    );
  }
  const choices = response.choices;
  const choice = Array.isArray(choices) ? (choices[0] as Record<string, unknown> | undefined) : undefined;
  const message = choice?.message as { content?: unknown; tool_calls?: unknown } | undefined;
  if (!choice || !message)
    throw new InfrastructureError(
      "model-bad-response",
      `model server at ${url} answered without choices[0].message`,
      {
        data: { body: text.slice(0, 2000) },
      },
    );
  const toolCalls: ToolCall[] = [];
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((raw: WireToolCall, index) => {
      const args = raw.function?.arguments;
      toolCalls.push({
        id: typeof raw.id === "string" && raw.id !== "" ? raw.id : `call_${index}`,
        name: typeof raw.function?.name === "string" ? raw.function.name : "",
        arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}),
      });
    });
  }
  const usage = (response.usage ?? {}) as { prompt_tokens?: unknown; completion_tokens?: unknown };
  const tokens = parseTokens(response, choice);
  const completion: Completion = {
    content: typeof message.content === "string" ? message.content : null,
    toolCalls,
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : "stop",
    usage: {
      promptTokens: Number(usage.prompt_tokens ?? 0) || 0,
      completionTokens: Number(usage.completion_tokens ?? 0) || 0,
    },
    tokens: typeof tokens === "string" ? null : tokens,
    durationMs,
  };
  return { completion, tokenProblem: typeof tokens === "string" ? tokens : null };
}
