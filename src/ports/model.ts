// The model port: one chat-completion call with tools, and the exact tokens the server sampled.
// No imports from adapters; src/model/ implements it for OpenAI-compatible servers.

import type { SamplingSettings } from "./rollout.js";

export interface ToolCall {
  /** Id the server gave the call; tool results refer to it. */
  id: string;
  name: string;
  /** The raw JSON text of the arguments, exactly as sampled (it may be malformed). */
  arguments: string;
}

export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string | null; toolCalls?: ToolCall[] }
  | { role: "tool"; toolCallId: string; content: string };

export interface ToolSpecification {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface CompletionRequest {
  messages: readonly ChatMessage[];
  /** Offered for native tool calling; omitted for the text call format. */
  tools?: readonly ToolSpecification[];
  seed?: number;
  /** Overrides the client's max tokens for this call (e.g. to stay inside the context budget). */
  maxTokens?: number;
  /** Prompt + completion tokens the episode may reach; a token-exact client enforces it in real tokens. */
  contextLimit?: number;
  abortSignal?: AbortSignal;
}

/** The tokens of one call exactly as the server saw and sampled them, when it reports them. */
export interface TokenTrace {
  promptTokenIds: number[];
  completionTokenIds: number[];
  /** One logprob per completion token. */
  logprobs: number[];
  /** The model (or LoRA adapter) name the server says it sampled from. */
  model?: string;
}

export interface Completion {
  content: string | null;
  toolCalls: ToolCall[];
  /** "stop", "tool_calls", "length", or whatever the server said. */
  finishReason: string;
  usage: { promptTokens: number; completionTokens: number };
  /** Null when the server does not return token ids and logprobs. */
  tokens: TokenTrace | null;
  durationMs: number;
}

/** A completion is data; so is a prompt the server refuses for being longer than the model's context. */
export type CompletionResult =
  | { status: "ok"; completion: Completion }
  | { status: "context-overflow"; message: string };

/** One capability as a probe found it: whether the server has it, and the evidence in a few words. */
export interface CapabilityFinding {
  supported: boolean;
  detail: string;
}

/** What a server offers for training, found by probing it once before an episode batch. */
export interface ServerCapabilities {
  url: string;
  model: string;
  /** Model names the server lists, or null when it has no model list. */
  listedModels: string[] | null;
  /** Exact prompt and sampled token ids (needed for trainable samples). */
  tokenIds: CapabilityFinding;
  /** One logprob per sampled token. */
  logprobs: CapabilityFinding;
  /** Structured `tool_calls` when tools are offered. */
  nativeToolCalls: CapabilityFinding;
  /** A `role: "tool"` message reaches the model's prompt (some chat templates drop it silently). */
  toolResults: CapabilityFinding;
}

/** Where a client's token ids come from: the episode's own token list (`tito`) or the server's re-rendering of
 * the chat history on every turn (`chat`). */
export type TokenSource = "tito" | "chat";

export interface ModelClient {
  readonly sampling: SamplingSettings;
  readonly tokenSource: TokenSource;
  /**
   * A client bound to one episode, called once at its start: a token-in/token-out client keeps the episode's
   * tokens in it and expects each request's messages to extend the previous request's. Absent when stateless.
   */
  startEpisode?(): ModelClient;
  /** Throws InfrastructureError when the server stays unreachable after retries or rejects the request (4xx). */
  complete(request: CompletionRequest): Promise<CompletionResult>;
  /** Asks the server once (model list, a one-token completion, a forced tool call, tool results) what it can do. */
  probe?(abortSignal?: AbortSignal): Promise<ServerCapabilities>;
}
