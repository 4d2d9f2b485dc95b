// OpenAI-compatible chat-completions client: bounded retries with backoff for transient failures only, the
// exact token ids and logprobs that vLLM / SGLang report when asked (`return_token_ids`, `logprobs`), and a
// one-time probe of what a server offers (token ids, logprobs, native tool calls, tool results in the prompt).

import { InfrastructureError } from "../errors.js";
import { createLogger } from "../log.js";
import type {
  Completion,
  CompletionRequest,
  CompletionResult,
  ModelClient,
  ServerCapabilities,
} from "../ports/model.js";
import type { SamplingSettings } from "../ports/rollout.js";
import { PROBE_PROMPT, probeChatServer } from "./chat-probe.js";
import { parseCompletion } from "./chat-response.js";
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
import { toWireMessages, toWireTool } from "./wire.js";

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
const DEFAULT_TIMEOUT_MS = 600_000;
const DEFAULT_RETRIES = 5;

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
  /** Set by the probe when the server's template leaves tool messages out of the prompt. */
  private toolResultsAsUser = false;

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

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const result = await this.post(request);
    if (result.status !== "ok" || this.toolChoice === "omit") return result;
    const named = callNamedInText(result.completion, request);
    if (named === null) return result;
    // llama-cpp-python's chatml-function-calling answers `auto` with the bare text `functions.NAME:` and no
    // call when the model starts a message: ask again with that tool forced, so its arguments get sampled.
    const forced = await this.post(request, { type: "function", function: { name: named } });
    if (forced.status !== "ok") return forced;
    return {
      status: "ok",
      completion: {
        ...forced.completion,
        durationMs: result.completion.durationMs + forced.completion.durationMs,
      },
    };
  }

  private post(request: CompletionRequest, toolChoice?: Record<string, unknown>): Promise<CompletionResult> {
    return postWithRetries(
      this.url,
      () => JSON.stringify(this.body(request, toolChoice)),
      {
        timeoutMs: this.timeoutMs,
        retry: this.retry,
        headers: this.headers(),
        abortSignal: request.abortSignal,
        seeded: request.seed !== undefined && this.options.sendSeeds !== false,
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

  private body(request: CompletionRequest, toolChoice?: Record<string, unknown>): Record<string, unknown> {
    const { extra_body: _extra, seeds: _seeds, ...fields } = this.sampling;
    return {
      ...fields,
      messages: toWireMessages(request.messages, { toolResultsAsUser: this.toolResultsAsUser }),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.seed === undefined || this.options.sendSeeds === false ? {} : { seed: request.seed }),
      ...(request.tools && request.tools.length > 0
        ? {
            tools: request.tools.map(toWireTool),
            ...(this.toolChoice === "omit" ? {} : { tool_choice: toolChoice ?? this.toolChoice }),
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
    const short = { ...this.body({ messages: [{ role: "user", content: PROBE_PROMPT }] }), max_tokens: 1 };
    const capabilities = await probeChatServer(
      {
        baseUrl: this.baseUrl,
        url: this.url,
        model: this.options.model,
        send: (target, payload, signal) => this.send(target, payload, signal),
        unreachable: (message) => this.unreachable(message),
      },
      { short, sendsToolChoice: this.toolChoice !== "omit", abortSignal },
    );
    if (!capabilities.toolResults.supported) {
      // The model would never see what its tools did: send the results as user messages instead.
      this.toolResultsAsUser = true;
      capabilities.toolResults = {
        ...capabilities.toolResults,
        detail: `${capabilities.toolResults.detail}; sending them as user messages instead`,
      };
    }
    return capabilities;
  }

  private unreachable(message: string): InfrastructureError {
    return new InfrastructureError(
      "model-unreachable",
      `model server at ${this.url}: ${message} (is the server up?)`,
      { data: { url: this.url } },
    );
  }
}

/** The tool a reply names as the whole text `functions.NAME:` without calling it, when NAME is offered. */
function callNamedInText(completion: Completion, request: CompletionRequest): string | null {
  if (completion.toolCalls.length > 0) return null;
  const name = /^\s*functions\.([A-Za-z_][\w-]*):\s*$/.exec(completion.content ?? "")?.[1];
  return name !== undefined && request.tools?.some((tool) => tool.name === name) ? name : null;
}
