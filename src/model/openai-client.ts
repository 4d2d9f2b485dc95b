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
import {
  CONTEXT_OVERFLOW,
  errorDetail,
  type HttpAttempt,
  type JudgedResponse,
  oneLine,
  postWithRetries,
  type RetryPolicy,
  requestJson,
  type Verdict,
} from "./http.js";
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
  /**
   * Send each request's seed (derived from the step, so a replayed step samples alike) [true]. Off for servers
   * that fail on seeded requests, e.g. vLLM 0.32's CPU backend with chunked prefill on.
   */
  sendSeeds?: boolean;
}

/** The sampling settings a client records in each sample, from its options and its defaults. */
export function samplingSettings(
  options: ModelClientOptions,
  defaults: { temperature: number; topP: number; maxTokens: number },
): SamplingSettings {
  return {
    model: options.model,
    temperature: options.temperature ?? defaults.temperature,
    top_p: options.topP ?? defaults.topP,
    max_tokens: options.maxTokens ?? defaults.maxTokens,
    ...(options.topK === undefined ? {} : { top_k: options.topK }),
    ...(options.minP === undefined ? {} : { min_p: options.minP }),
    ...(options.extraBody && Object.keys(options.extraBody).length > 0
      ? { extra_body: options.extraBody }
      : {}),
    ...(options.sendSeeds === false ? { seeds: false as const } : {}),
  };
}

export const DEFAULT_SAMPLING = { temperature: 1.0, topP: 0.95, maxTokens: 4096 } as const;
export const DEFAULT_TOOL_CHOICE: ToolChoiceSetting = "auto";
/** The probe's one-message prompt. */
export const PROBE_PROMPT = "Reply with OK.";
const DEFAULT_TIMEOUT_MS = 600_000;
const DEFAULT_RETRIES = 5;

interface WireToolCall {
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

export function createModelClient(options: ModelClientOptions): ModelClient {
  return new ChatClient(options);
}

/** The chat-completions client: one instance serves every episode (it keeps no per-episode state). */
class ChatClient implements ModelClient {
  readonly sampling: SamplingSettings;
  readonly tokenSource = "chat" as const;
  private readonly log = createLogger("model");
  private readonly baseUrl: string;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly toolChoice: ToolChoiceSetting;
  private readonly retry: RetryPolicy;
  /** Turned off for good when the server refuses the token id / logprob fields. */
  private requestTokenIds: boolean;
  private warnedMissingTokens = false;

  constructor(private readonly options: ModelClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.url = `${this.baseUrl}/chat/completions`;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.toolChoice = options.toolChoice ?? DEFAULT_TOOL_CHOICE;
    this.retry = {
      maxRetries: options.maxRetries ?? DEFAULT_RETRIES,
      baseDelayMs: options.retryBaseDelayMs ?? 500,
      maxDelayMs: options.retryMaxDelayMs ?? 30_000,
    };
    this.requestTokenIds = options.requestTokenIds ?? true;
    this.sampling = samplingSettings(options, DEFAULT_SAMPLING);
  }

  complete(request: CompletionRequest): Promise<CompletionResult> {
    return postWithRetries(
      this.url,
      () => JSON.stringify(this.body(request)),
      {
        timeoutMs: this.timeoutMs,
        retry: this.retry,
        headers: this.headers(),
        abortSignal: request.abortSignal,
        onRetry: (details) => this.log.warn("model request failed; retrying", details),
      },
      (response) => this.judge(response),
    );
  }

  /** Rules on an answer that is not transient: a completion, a context overflow, a refusal to mend, or an error. */
  private judge(response: JudgedResponse): Verdict<CompletionResult> {
    const { status } = response;
    if (status >= 200 && status < 300) {
      const { completion, tokenProblem } = parseCompletion(response.body, this.url, response.durationMs);
      if (this.requestTokenIds && tokenProblem !== null && !this.warnedMissingTokens) {
        this.warnedMissingTokens = true;
        this.log.warn("server returned no usable token ids/logprobs; episodes get no trainable samples", {
          url: this.url,
          problem: tokenProblem,
        });
      }
      return { kind: "done", value: { status: "ok", completion } };
    }
    const detail = errorDetail(response.body);
    if (status < 400)
      return { kind: "retry", problem: `HTTP ${status}: ${detail}`, code: "model-unreachable" };
    if (status < 500 && CONTEXT_OVERFLOW.test(detail))
      return { kind: "done", value: { status: "context-overflow", message: detail } };
    if (status < 500 && this.requestTokenIds && /return_token_ids|logprobs/.test(detail)) {
      this.log.warn("server refuses token id / logprob fields; continuing without them", { url: this.url });
      this.requestTokenIds = false;
      return { kind: "resend" };
    }
    throw this.rejected(status, detail, response.body);
  }

  private body(request: CompletionRequest): Record<string, unknown> {
    const { extra_body: _extra, seeds: _seeds, ...fields } = this.sampling;
    return {
      ...fields,
      messages: request.messages.map(toWireMessage),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.seed === undefined || this.options.sendSeeds === false ? {} : { seed: request.seed }),
      ...(request.tools && request.tools.length > 0
        ? {
            tools: request.tools.map(toWireTool),
            ...(this.toolChoice === "omit" ? {} : { tool_choice: this.toolChoice }),
          }
        : {}),
      ...(this.requestTokenIds ? { logprobs: true, return_token_ids: true } : {}),
      ...this.options.extraBody,
    };
  }

  private headers(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
  }

  /** One request without retries (the probe asks once and reports what it saw). */
  private send(
    target: string,
    payload: Record<string, unknown> | null,
    abortSignal: AbortSignal | undefined,
  ): Promise<HttpAttempt> {
    return requestJson(target, payload === null ? null : JSON.stringify(payload), {
      timeoutMs: this.timeoutMs,
      headers: this.headers(),
      abortSignal,
    });
  }

  private rejected(status: number, detail: string, rawBody: string): InfrastructureError {
    return new InfrastructureError(
      "model-request-rejected",
      `model server at ${this.url} rejected the request with HTTP ${status}: ${detail}` +
        (status === 401 || status === 403 || status === 404
          ? " (check --base-url, --model and the API key)"
          : ""),
      { data: { url: this.url, status, body: oneLine(rawBody) } },
    );
  }

  async probe(abortSignal?: AbortSignal): Promise<ServerCapabilities> {
    const listedModels = await this.listedModels(abortSignal);
    const short = { ...this.body({ messages: [{ role: "user", content: PROBE_PROMPT }] }), max_tokens: 1 };
    const { tokenIds, logprobs } = await this.probeTokens(short, abortSignal);
    const nativeToolCalls = await this.probeToolCalls(short, abortSignal);
    return {
      url: this.baseUrl,
      model: this.options.model,
      listedModels,
      tokenIds,
      logprobs,
      nativeToolCalls,
    };
  }

  private async listedModels(abortSignal?: AbortSignal): Promise<string[] | null> {
    const models = await this.send(`${this.baseUrl}/models`, null, abortSignal);
    if (models.kind !== "response" || models.status !== 200) return null;
    try {
      const data = (JSON.parse(models.body) as { data?: { id?: unknown }[] }).data;
      if (Array.isArray(data)) return data.map((entry) => String(entry.id));
    } catch {
      // no usable model list: reported as null
    }
    return null;
  }

  private async probeTokens(
    short: Record<string, unknown>,
    abortSignal?: AbortSignal,
  ): Promise<{ tokenIds: CapabilityFinding; logprobs: CapabilityFinding }> {
    const answer = await this.send(
      this.url,
      { ...short, logprobs: true, return_token_ids: true },
      abortSignal,
    );
    if (answer.kind === "network") throw this.unreachable(answer.message);
    if (answer.status !== 200) {
      const why = `refused token id / logprob fields: HTTP ${answer.status}: ${errorDetail(answer.body)}`;
      return { tokenIds: { supported: false, detail: why }, logprobs: { supported: false, detail: why } };
    }
    const parsed = JSON.parse(answer.body) as Record<string, unknown>;
    const choice = ((parsed.choices as unknown[] | undefined)?.[0] ?? {}) as Record<string, unknown>;
    const trace = parseTokens(parsed, choice);
    const content = (choice.logprobs as { content?: unknown } | null | undefined)?.content;
    return {
      tokenIds:
        typeof trace === "string"
          ? { supported: false, detail: trace }
          : { supported: true, detail: `${trace.promptTokenIds.length} prompt token ids returned` },
      logprobs: Array.isArray(content)
        ? { supported: true, detail: "per-token logprobs returned" }
        : { supported: false, detail: "no choices[0].logprobs.content" },
    };
  }

  private async probeToolCalls(
    short: Record<string, unknown>,
    abortSignal?: AbortSignal,
  ): Promise<CapabilityFinding> {
    const pingTool = {
      name: "ping",
      description: "Answers ping.",
      parameters: { type: "object", properties: {}, additionalProperties: false },
    };
    const answer = await this.send(
      this.url,
      {
        ...short,
        max_tokens: 32,
        tools: [{ type: "function", function: pingTool }],
        tool_choice:
          this.toolChoice === "omit" ? undefined : { type: "function", function: { name: "ping" } },
      },
      abortSignal,
    );
    if (answer.kind === "network") throw this.unreachable(answer.message);
    if (answer.status !== 200)
      return {
        supported: false,
        detail: `tools refused: HTTP ${answer.status}: ${errorDetail(answer.body)}`,
      };
    const { completion } = parseCompletion(answer.body, this.url, 0);
    return completion.toolCalls.length > 0
      ? { supported: true, detail: `tool_calls returned (${completion.toolCalls[0]!.name})` }
      : { supported: false, detail: "answered with text instead of tool_calls" };
  }

  private unreachable(message: string): InfrastructureError {
    return new InfrastructureError(
      "model-unreachable",
      `model server at ${this.url}: ${message} (is the server up?)`,
      { data: { url: this.url } },
    );
  }
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
