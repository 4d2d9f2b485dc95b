// Token-in/token-out model client (vLLM, SGLang): an episode's tokens are built once and only ever extended.
// The chat template (with the tools) renders the first messages at the episode's start; every sampled token
// is appended as sampled; each observation is rendered by the same template and appended as tokens. The
// server is sent token ids, never a chat history to re-render, so one episode stays one exact sample.
import { InfrastructureError } from "../../errors.js";
import { createLogger } from "../../log.js";
import type {
  ChatMessage,
  CompletionRequest,
  CompletionResult,
  ModelClient,
  ToolSpecification,
} from "../../ports/model.js";
import type { SamplingSettings } from "../../ports/rollout.js";
import {
  CONTEXT_OVERFLOW,
  errorDetail,
  type JudgedResponse,
  notJsonVerdict,
  parseJsonObject,
  postWithRetries,
  type RetryPolicy,
  type Verdict,
} from "../http.js";
import { type ModelClientOptions, samplingSettings } from "../openai-client.js";
import { type Engine, type EngineKind, engineNamed, type GenerateReply } from "./engines.js";
import { type ChatTokenizer, createServerTokenizer } from "./server-tokenizer.js";

/** The chat client's connection and sampling settings, plus which engine protocol and tokenizer to use. */
export interface TitoClientOptions extends Omit<ModelClientOptions, "requestTokenIds"> {
  engine: EngineKind;
  /** vLLM: the OpenAI base including `/v1`; SGLang: the server root. */
  baseUrl: string;
  /** Where `/tokenize` and `/detokenize` are served [vLLM: baseUrl without `/v1`; SGLang: baseUrl]. */
  tokenizerUrl?: string;
  /** A tokenizer to use instead of the server's endpoints. */
  tokenizer?: ChatTokenizer;
}

const DEFAULT_MAX_TOKENS = 1024;
const DEFAULT_TIMEOUT_MS = 600_000;
/** Content of a stand-in assistant turn whose rendering shows where the template puts what follows a turn. */
const SENTINEL = "SWESELFPLAYTURNSENTINEL";

export function defaultTokenizerUrl(engine: EngineKind, baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, "");
  return engine === "vllm" ? trimmed.replace(/\/v1$/, "") : trimmed;
}

/** The episode's tokens and how many of its messages they already hold. */
interface EpisodeTokens {
  tokens: number[];
  renderedMessages: number;
  /** The first request's messages and tools: the head every later observation is rendered after. */
  head: readonly ChatMessage[];
  tools: readonly ToolSpecification[] | undefined;
  /** Tokens of the first prompt, ending with the assistant header. */
  promptLength: number;
  sentinelTokens: number[];
  /** The token the template closes an assistant turn with (e.g. `<|im_end|>`); sampling stops at it. */
  endOfTurn: number;
}

export function createTitoClient(options: TitoClientOptions): ModelClient {
  return new TitoClient(options);
}

/** The engine's connection, sampling and tokenizer; each episode keeps its tokens in a TitoEpisode. */
class TitoClient implements ModelClient {
  readonly sampling: SamplingSettings;
  readonly tokenSource = "tito" as const;
  readonly tokenizer: ChatTokenizer;
  private readonly log = createLogger("model");
  private readonly engine: Engine;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;

  constructor(readonly options: TitoClientOptions) {
    this.engine = engineNamed(options.engine);
    this.url = `${options.baseUrl.replace(/\/+$/, "")}${this.engine.path}`;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = {
      maxRetries: options.maxRetries ?? 5,
      baseDelayMs: options.retryBaseDelayMs ?? 500,
      maxDelayMs: options.retryMaxDelayMs ?? 30_000,
    };
    this.sampling = samplingSettings(options, { temperature: 1, topP: 0.95, maxTokens: DEFAULT_MAX_TOKENS });
    this.tokenizer =
      options.tokenizer ??
      createServerTokenizer({
        baseUrl: options.tokenizerUrl ?? defaultTokenizerUrl(options.engine, options.baseUrl),
        model: options.model,
        apiKey: options.apiKey,
        timeoutMs: this.timeoutMs,
        retry: this.retry,
      });
  }

  startEpisode(): ModelClient {
    return new TitoEpisode(this);
  }

  /** An unbound call starts an episode of its own. */
  complete(request: CompletionRequest): Promise<CompletionResult> {
    return this.startEpisode().complete(request);
  }

  /** Renders the first messages, and finds the token that closes an assistant turn from a stand-in turn. */
  async startTokens(request: CompletionRequest): Promise<EpisodeTokens> {
    const head = [...request.messages];
    const tools = request.tools;
    const signal = request.abortSignal;
    const [prompt, closed, sentinelTokens] = await Promise.all([
      this.tokenizer.renderChat({ messages: head, tools, addGenerationPrompt: true, abortSignal: signal }),
      this.tokenizer.renderChat({
        messages: [...head, { role: "assistant", content: SENTINEL }],
        tools,
        addGenerationPrompt: false,
        abortSignal: signal,
      }),
      this.tokenizer.encode(SENTINEL, signal),
    ]);
    const after = splitAfterSentinel(closed, prompt, sentinelTokens);
    if (after.length === 0)
      throw new InfrastructureError(
        "template-not-incremental",
        "the chat template puts nothing after an assistant turn, so the end of a turn cannot be told",
      );
    return {
      tokens: prompt,
      renderedMessages: head.length,
      head,
      tools,
      promptLength: prompt.length,
      sentinelTokens,
      endOfTurn: after[0]!,
    };
  }

  /** Tokens that follow a sampled turn: its closing (unless sampled), the observation, the next header. */
  async observationTokens(
    episode: EpisodeTokens,
    messages: readonly ChatMessage[],
    abortSignal?: AbortSignal,
  ): Promise<number[]> {
    const previous = messages[episode.renderedMessages];
    if (messages.length <= episode.renderedMessages + 1 || previous?.role !== "assistant")
      throw new InfrastructureError(
        "tito-history-mismatch",
        `a token-in/token-out episode expects its ${episode.renderedMessages} rendered messages, the sampled ` +
          `assistant turn and new messages; got ${messages.length} messages` +
          (previous ? ` with a ${previous.role} message where the assistant turn belongs` : ""),
      );
    const fresh = messages.slice(episode.renderedMessages + 1);
    const rendered = await this.tokenizer.renderChat({
      messages: [...episode.head, { role: "assistant", content: SENTINEL }, ...fresh],
      tools: episode.tools,
      addGenerationPrompt: true,
      abortSignal,
    });
    const prompt = episode.tokens.slice(0, episode.promptLength);
    const after = splitAfterSentinel(rendered, prompt, episode.sentinelTokens);
    const last = episode.tokens[episode.tokens.length - 1];
    return last === episode.endOfTurn && after[0] === episode.endOfTurn ? after.slice(1) : after;
  }

  /** Samples a continuation of `prompt`, up to `maxTokens` or the end of the turn. */
  generate(
    prompt: number[],
    request: { maxTokens: number; endOfTurn: number; seed?: number; abortSignal?: AbortSignal },
  ): Promise<GenerateReply | { overflow: string }> {
    const body = this.engine.body({
      model: this.options.model,
      promptTokenIds: prompt,
      maxTokens: request.maxTokens,
      temperature: this.sampling.temperature,
      topP: this.sampling.top_p,
      ...(this.sampling.top_k === undefined ? {} : { topK: this.sampling.top_k }),
      ...(this.sampling.min_p === undefined ? {} : { minP: this.sampling.min_p }),
      stopTokenIds: [request.endOfTurn],
      ...(this.options.sendSeeds === false ? {} : { seed: request.seed }),
      extraBody: this.options.extraBody,
    });
    return postWithRetries(
      this.url,
      JSON.stringify(body),
      {
        timeoutMs: this.timeoutMs,
        retry: this.retry,
        headers: this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {},
        abortSignal: request.abortSignal,
        seeded: request.seed !== undefined && this.options.sendSeeds !== false,
        onRetry: (details) => this.log.warn("model request failed; retrying", details),
      },
      (response) => this.judge(response),
    );
  }

  private judge(response: JudgedResponse): Verdict<GenerateReply | { overflow: string }> {
    const url = this.url;
    if (response.status >= 400) {
      const detail = errorDetail(response.body);
      if (CONTEXT_OVERFLOW.test(detail)) return { kind: "done", value: { overflow: detail } };
      throw new InfrastructureError(
        "model-request-rejected",
        `model server at ${url} rejected the request with HTTP ${response.status}: ${detail} ` +
          `(check the base URL, the model name and inference.kind: ${this.engine.kind})`,
        { data: { url, status: response.status, body: response.body.slice(0, 2000) } },
      );
    }
    const parsed = parseJsonObject(response.body);
    if (parsed === null) return notJsonVerdict(response.body, "model-bad-response");
    const reply = this.engine.read(parsed);
    if (typeof reply === "string")
      throw new InfrastructureError(
        "model-bad-response",
        `model server at ${url} answered with ${reply}; a token-in/token-out episode cannot go on without ` +
          `the sampled token ids and their logprobs`,
        { data: { url, body: response.body.slice(0, 2000) } },
      );
    return { kind: "done", value: reply };
  }
}

/** One episode: its token list, extended only by sampled tokens and rendered observations. */
class TitoEpisode implements ModelClient {
  readonly sampling: SamplingSettings;
  readonly tokenSource = "tito" as const;
  private episode: EpisodeTokens | null = null;

  constructor(private readonly client: TitoClient) {
    this.sampling = client.sampling;
  }

  startEpisode(): ModelClient {
    return this.client.startEpisode();
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const started = performance.now();
    const client = this.client;
    const current = this.episode ?? (await client.startTokens(request));
    const prompt =
      this.episode === null
        ? current.tokens
        : [
            ...current.tokens,
            ...(await client.observationTokens(current, request.messages, request.abortSignal)),
          ];
    const limit = Math.min(
      request.contextLimit ?? Number.POSITIVE_INFINITY,
      client.tokenizer.maxModelLength ?? Number.POSITIVE_INFINITY,
    );
    const room = limit - prompt.length;
    if (room <= 0)
      return {
        status: "context-overflow",
        message: `the prompt has ${prompt.length} tokens; the context limit is ${limit}`,
      };
    const reply = await client.generate(prompt, {
      maxTokens: Math.min(request.maxTokens ?? this.sampling.max_tokens ?? DEFAULT_MAX_TOKENS, room),
      endOfTurn: current.endOfTurn,
      seed: request.seed,
      abortSignal: request.abortSignal,
    });
    if ("overflow" in reply) return { status: "context-overflow", message: reply.overflow };
    // Only a successful call moves the episode on, so a failed one can be tried again with the same messages.
    this.episode = {
      ...current,
      tokens: [...prompt, ...reply.tokenIds],
      renderedMessages: request.messages.length,
    };
    return {
      status: "ok",
      completion: {
        content: reply.text,
        toolCalls: [],
        finishReason: reply.finishReason,
        usage: { promptTokens: prompt.length, completionTokens: reply.tokenIds.length },
        tokens: {
          promptTokenIds: prompt,
          completionTokenIds: reply.tokenIds,
          logprobs: reply.logprobs,
          model: reply.model ?? client.options.model,
        },
        durationMs: performance.now() - started,
      },
    };
  }
}

/**
 * The tokens after the stand-in assistant content in `rendered`, checking that the rendering starts with the
 * episode's first prompt followed by that content: the template must extend a conversation, not rewrite it.
 */
function splitAfterSentinel(
  rendered: readonly number[],
  prompt: readonly number[],
  sentinel: readonly number[],
): number[] {
  const expected = [...prompt, ...sentinel];
  for (let index = 0; index < expected.length; index++)
    if (rendered[index] !== expected[index])
      throw new InfrastructureError(
        "template-not-incremental",
        `the chat template's rendering of a longer conversation does not start with the episode's prompt and ` +
          `the assistant turn (first difference at token ${index} of ${expected.length}); token-in/token-out ` +
          `needs a template that appends turns without changing earlier ones`,
        { data: { index } },
      );
  return rendered.slice(expected.length);
}
