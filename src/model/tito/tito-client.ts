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
  notJsonVerdict,
  parseJsonObject,
  postWithRetries,
  type RetryPolicy,
  type Verdict,
} from "../http.js";
import type { ModelClientOptions } from "../openai-client.js";
import { type EngineKind, engineNamed, type GenerateReply } from "./engines.js";
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
  const log = createLogger("model");
  const engine = engineNamed(options.engine);
  const url = `${options.baseUrl.replace(/\/+$/, "")}${engine.path}`;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retry: RetryPolicy = {
    maxRetries: options.maxRetries ?? 5,
    baseDelayMs: options.retryBaseDelayMs ?? 500,
    maxDelayMs: options.retryMaxDelayMs ?? 30_000,
  };
  const sampling: SamplingSettings = {
    model: options.model,
    temperature: options.temperature ?? 1,
    top_p: options.topP ?? 0.95,
    max_tokens: options.maxTokens ?? DEFAULT_MAX_TOKENS,
  };
  const tokenizer =
    options.tokenizer ??
    createServerTokenizer({
      baseUrl: options.tokenizerUrl ?? defaultTokenizerUrl(options.engine, options.baseUrl),
      model: options.model,
      apiKey: options.apiKey,
      timeoutMs,
      retry,
    });
  const onRetry = (details: Record<string, unknown>) => log.warn("model request failed; retrying", details);

  async function startTokens(request: CompletionRequest): Promise<EpisodeTokens> {
    const head = [...request.messages];
    const tools = request.tools;
    const signal = request.abortSignal;
    const [prompt, closed, sentinelTokens] = await Promise.all([
      tokenizer.renderChat({ messages: head, tools, addGenerationPrompt: true, abortSignal: signal }),
      tokenizer.renderChat({
        messages: [...head, { role: "assistant", content: SENTINEL }],
        tools,
        addGenerationPrompt: false,
        abortSignal: signal,
      }),
      tokenizer.encode(SENTINEL, signal),
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
  async function observationTokens(
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
    const rendered = await tokenizer.renderChat({
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

  function generate(
    body: Record<string, unknown>,
    abortSignal: AbortSignal | undefined,
  ): Promise<GenerateReply | { overflow: string }> {
    return postWithRetries(
      url,
      JSON.stringify(body),
      {
        timeoutMs,
        retry,
        headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
        abortSignal,
        onRetry,
      },
      (response): Verdict<GenerateReply | { overflow: string }> => {
        if (response.status >= 400) {
          const detail = errorDetail(response.body);
          if (CONTEXT_OVERFLOW.test(detail)) return { kind: "done", value: { overflow: detail } };
          throw new InfrastructureError(
            "model-request-rejected",
            `model server at ${url} rejected the request with HTTP ${response.status}: ${detail} ` +
              `(check the base URL, the model name and inference.kind: ${engine.kind})`,
            { data: { url, status: response.status, body: response.body.slice(0, 2000) } },
          );
        }
        const parsed = parseJsonObject(response.body);
        if (parsed === null) return notJsonVerdict(response.body, "model-bad-response");
        const reply = engine.read(parsed);
        if (typeof reply === "string")
          throw new InfrastructureError(
            "model-bad-response",
            `model server at ${url} answered with ${reply}; a token-in/token-out episode cannot go on without ` +
              `the sampled token ids and their logprobs`,
            { data: { url, body: response.body.slice(0, 2000) } },
          );
        return { kind: "done", value: reply };
      },
    );
  }

  function episodeClient(): ModelClient {
    let episode: EpisodeTokens | null = null;

    async function complete(request: CompletionRequest): Promise<CompletionResult> {
      const started = performance.now();
      let current = episode;
      let prompt: number[];
      if (current === null) {
        current = await startTokens(request);
        prompt = current.tokens;
      } else {
        prompt = [
          ...current.tokens,
          ...(await observationTokens(current, request.messages, request.abortSignal)),
        ];
      }
      const limit = Math.min(
        request.contextLimit ?? Number.POSITIVE_INFINITY,
        tokenizer.maxModelLength ?? Number.POSITIVE_INFINITY,
      );
      const room = limit - prompt.length;
      if (room <= 0)
        return {
          status: "context-overflow",
          message: `the prompt has ${prompt.length} tokens; the context limit is ${limit}`,
        };
      const maxTokens = Math.min(request.maxTokens ?? sampling.max_tokens ?? DEFAULT_MAX_TOKENS, room);
      const reply = await generate(
        engine.body({
          model: options.model,
          promptTokenIds: prompt,
          maxTokens,
          temperature: sampling.temperature,
          topP: sampling.top_p,
          stopTokenIds: [current.endOfTurn],
          seed: request.seed,
          extraBody: options.extraBody,
        }),
        request.abortSignal,
      );
      if ("overflow" in reply) return { status: "context-overflow", message: reply.overflow };
      // Only a successful call moves the episode on, so a failed one can be tried again with the same messages.
      episode = {
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
            model: reply.model ?? options.model,
          },
          durationMs: performance.now() - started,
        },
      };
    }

    return { sampling, tokenSource: "tito", complete, startEpisode: episodeClient };
  }

  // Unbound calls each start an episode of their own.
  return {
    sampling,
    tokenSource: "tito",
    complete: (request) => episodeClient().complete(request),
    startEpisode: episodeClient,
  };
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
