// The model's own tokenizer and chat template, through a server's `/tokenize` and `/detokenize` endpoints
// (vLLM's shape: chat messages with tools and add_generation_prompt, or plain text): the token ids are
// exactly the ones the server would build itself.
import { InfrastructureError } from "../../errors.js";
import type { ChatMessage, ToolSpecification } from "../../ports/model.js";
import {
  errorDetail,
  notJsonVerdict,
  parseJsonObject,
  postWithRetries,
  type RetryPolicy,
  type Verdict,
} from "../http.js";
import { toWireMessage, toWireTool } from "../wire.js";

export interface ChatTokenizer {
  /** The chat template applied to `messages` (and tools), tokenized. */
  renderChat(input: {
    messages: readonly ChatMessage[];
    tools?: readonly ToolSpecification[];
    addGenerationPrompt: boolean;
    abortSignal?: AbortSignal;
  }): Promise<number[]>;
  /** Plain text, without special tokens added. */
  encode(text: string, abortSignal?: AbortSignal): Promise<number[]>;
  decode(tokens: readonly number[], abortSignal?: AbortSignal): Promise<string>;
  /** The model's context length as the server reports it; null until a call told it. */
  readonly maxModelLength: number | null;
}

export interface ServerTokenizerOptions {
  /** The server root that serves `/tokenize` and `/detokenize`, e.g. `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** The served model to render for; absent: the server's only one. */
  model?: string;
  apiKey?: string;
  timeoutMs: number;
  retry: RetryPolicy;
}

export function createServerTokenizer(options: ServerTokenizerOptions): ChatTokenizer {
  const root = options.baseUrl.replace(/\/+$/, "");
  let maxModelLength: number | null = null;

  async function call<T>(
    path: string,
    body: Record<string, unknown>,
    read: (parsed: Record<string, unknown>) => T | string,
    abortSignal?: AbortSignal,
  ): Promise<T> {
    const url = `${root}${path}`;
    return postWithRetries(
      url,
      JSON.stringify({ ...(options.model ? { model: options.model } : {}), ...body }),
      {
        timeoutMs: options.timeoutMs,
        retry: options.retry,
        headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
        abortSignal,
      },
      (response): Verdict<T> => {
        if (response.status >= 400)
          throw new InfrastructureError(
            "tokenizer-request-rejected",
            `tokenizer at ${url} rejected the request with HTTP ${response.status}: ${errorDetail(response.body)}`,
            { data: { url, status: response.status, body: response.body.slice(0, 2000) } },
          );
        const parsed = parseJsonObject(response.body);
        if (parsed === null) return notJsonVerdict(response.body, "tokenizer-bad-response");
        if (Number.isInteger(parsed.max_model_len)) maxModelLength = parsed.max_model_len as number;
        const value = read(parsed);
        if (typeof value === "string")
          throw new InfrastructureError("tokenizer-bad-response", `tokenizer at ${url} answered ${value}`, {
            data: { url, body: response.body.slice(0, 2000) },
          });
        return { kind: "done", value };
      },
    );
  }

  const tokensOf = (parsed: Record<string, unknown>): number[] | string =>
    isTokenList(parsed.tokens) ? parsed.tokens : "without a `tokens` list of integers";

  return {
    get maxModelLength() {
      return maxModelLength;
    },
    renderChat: ({ messages, tools, addGenerationPrompt, abortSignal }) =>
      call(
        "/tokenize",
        {
          messages: messages.map(toWireMessage),
          ...(tools && tools.length > 0 ? { tools: tools.map(toWireTool) } : {}),
          add_generation_prompt: addGenerationPrompt,
          add_special_tokens: false,
        },
        tokensOf,
        abortSignal,
      ),
    encode: (text, abortSignal) =>
      call("/tokenize", { prompt: text, add_special_tokens: false }, tokensOf, abortSignal),
    decode: async (tokens, abortSignal) =>
      (
        await call(
          "/detokenize",
          { tokens },
          // Wrapped: a bare string from `read` means a problem.
          (parsed) =>
            typeof parsed.prompt === "string" ? { text: parsed.prompt } : "without a `prompt` string",
          abortSignal,
        )
      ).text,
  };
}

export function isTokenList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => Number.isInteger(item) && item >= 0);
}
