// OpenAI-compatible chat-completions client: bounded retries with backoff for transient failures only, the
// exact token ids and logprobs that vLLM / SGLang report when asked (`return_token_ids`, `logprobs`), and a
// one-time probe of what a server offers (token ids, logprobs, native tool calls).

import { InfrastructureError } from "../errors.js";
import { createLogger } from "../log.js";
import type {
  CapabilityFinding,
  Completion,
  CompletionRequest,
  CompletionResult,
  ModelClient,
  ServerCapabilities,
  TokenTrace,
  ToolCall,
} from "../ports/model.js";
import type { SamplingSettings } from "../ports/rollout.js";
import { CONTEXT_OVERFLOW, errorDetail, type HttpAttempt, oneLine, requestJson, sleep } from "./http.js";
import { toWireMessage, toWireTool } from "./wire.js";

/** `omit` sends no `tool_choice` field at all, for servers that refuse it. */
export type ToolChoiceSetting = "auto" | "required" | "none" | "omit";

export interface ModelClientOptions {
  /** Base URL including the API version path, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  temperature?: number;
  topP?: number;
  /** Sent only when set: not every server knows it. */
  topK?: number;
  /** Sent only when set: not every server knows it. */
  minP?: number;
  /** Completion token cap per call [4096]; some servers (llama.cpp) generate without limit when it is absent. */
  maxTokens?: number;
  /** `tool_choice` sent with the tools [auto]; llama.cpp's server leaves the tools out of the prompt without it. */
  toolChoice?: ToolChoiceSetting;
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

export const DEFAULT_SAMPLING = { temperature: 1.0, topP: 0.95, maxTokens: 4096 } as const;
export const DEFAULT_TOOL_CHOICE: ToolChoiceSetting = "auto";
/** The probe's one-message prompt. */
export const PROBE_PROMPT = "Reply with OK.";
const DEFAULT_TIMEOUT_MS = 600_000;
const DEFAULT_RETRIES = 5;

/** A 5xx whose body says this: the server could not handle the request itself, so sending it again fails again. */
const INVALID_REQUEST =
  /validation errors?|invalid|unprocessable|unrecognized|unsupported|not supported|not permitted|field required|missing required|is not of type/i;

interface WireToolCall {
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

export function createModelClient(options: ModelClientOptions): ModelClient {
  const log = createLogger("model");
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const url = `${baseUrl}/chat/completions`;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const toolChoice = options.toolChoice ?? DEFAULT_TOOL_CHOICE;
  const sampling: SamplingSettings = {
    model: options.model,
    temperature: options.temperature ?? DEFAULT_SAMPLING.temperature,
    top_p: options.topP ?? DEFAULT_SAMPLING.topP,
    max_tokens: options.maxTokens ?? DEFAULT_SAMPLING.maxTokens,
    ...(options.topK === undefined ? {} : { top_k: options.topK }),
    ...(options.minP === undefined ? {} : { min_p: options.minP }),
    ...(options.extraBody && Object.keys(options.extraBody).length > 0
      ? { extra_body: options.extraBody }
      : {}),
  };
  let requestTokenIds = options.requestTokenIds ?? true;
  let warnedMissingTokens = false;

  function body(request: CompletionRequest): Record<string, unknown> {
    const { extra_body: _extra, ...fields } = sampling;
    return {
      ...fields,
      messages: request.messages.map(toWireMessage),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.tools && request.tools.length > 0
        ? {
            tools: request.tools.map(toWireTool),
            ...(toolChoice === "omit" ? {} : { tool_choice: toolChoice }),
          }
        : {}),
      ...(requestTokenIds ? { logprobs: true, return_token_ids: true } : {}),
      ...options.extraBody,
    };
  }

  function send(
    target: string,
    payload: Record<string, unknown> | null,
    abortSignal: AbortSignal | undefined,
  ): Promise<HttpAttempt> {
    return requestJson(target, payload === null ? null : JSON.stringify(payload), {
      timeoutMs,
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      abortSignal,
    });
  }

  function rejected(status: number, detail: string, rawBody: string): InfrastructureError {
    return new InfrastructureError(
      "model-request-rejected",
      `model server at ${url} rejected the request with HTTP ${status}: ${detail}` +
        (status === 401 || status === 403 || status === 404
          ? " (check --base-url, --model and the API key)"
          : ""),
      { data: { url, status, body: oneLine(rawBody) } },
    );
  }

  async function complete(request: CompletionRequest): Promise<CompletionResult> {
    const maxRetries = options.maxRetries ?? DEFAULT_RETRIES;
    let failures = 0;
    for (;;) {
      const started = performance.now();
      const result = await send(url, body(request), request.abortSignal);
      let transient: string;
      if (result.kind === "network") transient = result.message;
      else if (result.status >= 200 && result.status < 300) {
        const { completion, tokenProblem } = parseCompletion(result.body, url, performance.now() - started);
        if (requestTokenIds && tokenProblem !== null && !warnedMissingTokens) {
          warnedMissingTokens = true;
          log.warn("server returned no usable token ids/logprobs; episodes get no trainable samples", {
            url,
            problem: tokenProblem,
          });
        }
        return { status: "ok", completion };
      } else {
        const detail = errorDetail(result.body);
        if (result.status >= 400 && result.status < 500 && CONTEXT_OVERFLOW.test(detail))
          return { status: "context-overflow", message: detail };
        if (
          result.status >= 400 &&
          result.status < 500 &&
          requestTokenIds &&
          /return_token_ids|logprobs/.test(detail)
        ) {
          log.warn("server refuses token id / logprob fields; continuing without them", { url });
          requestTokenIds = false;
          continue;
        }
        const retryable =
          result.status === 429 ||
          result.status === 408 ||
          (result.status >= 500 && !INVALID_REQUEST.test(detail)) ||
          result.status < 400;
        if (!retryable) throw rejected(result.status, detail, result.body);
        transient = `HTTP ${result.status}: ${detail}`;
      }
      failures++;
      if (failures > maxRetries)
        throw new InfrastructureError(
          "model-unreachable",
          `model server at ${url} failed ${failures} times, last: ${transient}` +
            (result.kind === "network" ? " (is the server up?)" : ""),
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

  async function probe(abortSignal?: AbortSignal): Promise<ServerCapabilities> {
    const models = await send(`${baseUrl}/models`, null, abortSignal);
    let listedModels: string[] | null = null;
    if (models.kind === "response" && models.status === 200) {
      try {
        const data = (JSON.parse(models.body) as { data?: { id?: unknown }[] }).data;
        if (Array.isArray(data)) listedModels = data.map((entry) => String(entry.id));
      } catch {
        // no usable model list: reported as null
      }
    }
    const short = { ...body({ messages: [{ role: "user", content: PROBE_PROMPT }] }), max_tokens: 1 };
    const tokenAnswer = await send(url, { ...short, logprobs: true, return_token_ids: true }, abortSignal);
    let tokenIds: CapabilityFinding;
    let logprobs: CapabilityFinding;
    if (tokenAnswer.kind === "network") throw unreachable(tokenAnswer.message);
    if (tokenAnswer.status !== 200) {
      const why = `refused token id / logprob fields: HTTP ${tokenAnswer.status}: ${errorDetail(tokenAnswer.body)}`;
      tokenIds = { supported: false, detail: why };
      logprobs = { supported: false, detail: why };
    } else {
      const parsed = JSON.parse(tokenAnswer.body) as Record<string, unknown>;
      const choice = ((parsed.choices as unknown[] | undefined)?.[0] ?? {}) as Record<string, unknown>;
      const trace = parseTokens(parsed, choice);
      const content = (choice.logprobs as { content?: unknown } | null | undefined)?.content;
      tokenIds =
        typeof trace === "string"
          ? { supported: false, detail: trace }
          : { supported: true, detail: `${trace.promptTokenIds.length} prompt token ids returned` };
      logprobs = Array.isArray(content)
        ? { supported: true, detail: "per-token logprobs returned" }
        : { supported: false, detail: "no choices[0].logprobs.content" };
    }
    const pingTool = {
      name: "ping",
      description: "Answers ping.",
      parameters: { type: "object", properties: {}, additionalProperties: false },
    };
    const toolAnswer = await send(
      url,
      {
        ...short,
        max_tokens: 32,
        tools: [{ type: "function", function: pingTool }],
        tool_choice: toolChoice === "omit" ? undefined : { type: "function", function: { name: "ping" } },
      },
      abortSignal,
    );
    let nativeToolCalls: CapabilityFinding;
    if (toolAnswer.kind === "network") throw unreachable(toolAnswer.message);
    if (toolAnswer.status !== 200)
      nativeToolCalls = {
        supported: false,
        detail: `tools refused: HTTP ${toolAnswer.status}: ${errorDetail(toolAnswer.body)}`,
      };
    else {
      const { completion } = parseCompletion(toolAnswer.body, url, 0);
      nativeToolCalls =
        completion.toolCalls.length > 0
          ? { supported: true, detail: `tool_calls returned (${completion.toolCalls[0]!.name})` }
          : { supported: false, detail: "answered with text instead of tool_calls" };
    }
    return { url: baseUrl, model: options.model, listedModels, tokenIds, logprobs, nativeToolCalls };
  }

  function unreachable(message: string): InfrastructureError {
    return new InfrastructureError(
      "model-unreachable",
      `model server at ${url}: ${message} (is the server up?)`,
      {
        data: { url },
      },
    );
  }

  return { sampling, tokenSource: "chat", complete, probe };
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
